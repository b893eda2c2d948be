"""The Letzshop assets run as Dagster runs: import, match and the auto-confirm rule; a refused key fails
the run at once (no retries) with the reason in the sync log and the failure."""
import pytest
from dagster import DagsterInstance
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.pipelines.run_in_process import run_order_sync
from marketsync.resources.errors import MarketsyncError


def _resources(shop):
    return {"warehouse": shop.warehouse, "vault": shop.vault, "letzshop": shop.letzshop}


def test_auto_confirm_queues_every_order_without_exceptions(shop, tmp_path):
    shop.load_catalog(tmp_path / "catalog.csv")
    with shop.warehouse.begin() as conn:
        upsert_account(conn, "shop", "letzshop", settings={"auto_confirm": True})
    result = run_order_sync("shop", ["unconfirmed"], instance=DagsterInstance.ephemeral(), resources=_resources(shop))
    with shop.warehouse.begin() as conn:
        clean = conn.execute(text("SELECT count(*) FROM analytics.orders WHERE open_exceptions = 0")).scalar_one()
        queued = conn.execute(text("SELECT count(*) FROM ops.outbound_queue WHERE operation = 'confirm'")).scalar_one()
        confirming = conn.execute(text(
            "SELECT count(*) FROM core.orders WHERE sync_status = 'confirming'")).scalar_one()
    assert result["letzshop_auto_confirmations.queued"] == queued == confirming == clean
    assert 0 < clean < 30


def test_auto_confirm_off_queues_nothing(shop, tmp_path):
    shop.load_catalog(tmp_path / "catalog.csv")
    result = run_order_sync("shop", ["unconfirmed"], instance=DagsterInstance.ephemeral(), resources=_resources(shop))
    assert result["letzshop_auto_confirmations.queued"] == 0
    with shop.warehouse.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM ops.outbound_queue")).scalar_one() == 0
        statuses = conn.execute(text("SELECT DISTINCT sync_status FROM core.orders")).scalars().all()
    assert statuses == ["imported"]


def test_refused_key_fails_the_run_once_with_the_reason(shop):
    shop.state.revoke_key("sandbox-test-key")
    instance = DagsterInstance.ephemeral()
    with pytest.raises(MarketsyncError, match="refused the API key"):
        run_order_sync("shop", ["unconfirmed"], instance=instance, resources=_resources(shop))
    assert shop.state.stats()["statuses"] == {"401": 1}  # not retried
    with shop.warehouse.begin() as conn:
        errors = conn.execute(text("SELECT errors FROM ops.sync_log WHERE operation = 'import_orders'")).scalar_one()
    assert any("refused the API key" in e for e in errors)
