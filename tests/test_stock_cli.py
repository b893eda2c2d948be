"""Stock out through what people use: the `marketsync stock` commands (a push is a Dagster run), the
sensor's run requests, the lag asset check, the drift check, and the analyst's views."""
from __future__ import annotations

import json

import pytest
from dagster import DagsterInstance, build_sensor_context
from sqlalchemy import text

from marketsync.assets.letzshop.stock import LetzshopCsvStock
from marketsync.assets.stock.assets import inventory_sync_lag
from marketsync.assets.stock.channels import build_channel
from marketsync.assets.stock.drift import drift_check
from marketsync.assets.stock.push import push_stock
from marketsync.assets.stock.settings import save_settings
from marketsync.resources.errors import MarketsyncError
from marketsync.sensors.stock_push import stock_push_sensor

STORE = "shop"


@pytest.fixture
def cli_shop(letzshop_store):
    return letzshop_store(STORE, ["A-1", "B-2", "C-3"])


def test_stock_commands_end_to_end(cli_shop, run_cli, warehouse):
    _account, state, location = cli_shop
    code, out, err = run_cli("stock", "settings", STORE, "letzshop", "--location", location, "--safety-stock", "1",
                             "--strategy", "realtime", "--set", "filename={store}-{sync_id}.csv", "--json")
    assert code == 0, err
    saved = json.loads(out)[0]
    assert saved["strategy"] == "realtime" and saved["delivery"]["filename"] == "{store}-{sync_id}.csv"
    code, _, err = run_cli("stock", "settings", STORE, "letzshop", "--set", "password=hunter2")
    assert code == 1 and "credentials set" in err and "hunter2" not in err
    for sku, count in (("A-1", 8), ("B-2", 3), ("C-3", 0)):
        assert run_cli("stock", "adjust", STORE, sku, "--count", str(count))[0] == 0
    code, out, err = run_cli("stock", "adjust", STORE, "A-1", "--add", "-2", "--reason", "broken", "--json")
    assert code == 0 and json.loads(out)["kind"] == "delta", err
    assert run_cli("stock", "rule", STORE, "letzshop", "B-2", "--max", "1")[0] == 0

    code, out, err = run_cli("stock", "push", STORE, "letzshop", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["channel_stock.pushed"] == 3 and summary["channel_stock.acknowledged"] == 3
    assert summary["channel_stock.status"] == "succeeded" and summary["run_id"]
    assert state.inventory_snapshot() == {"A-1": 5, "B-2": 1, "C-3": 0}
    assert state.inventory_uploads[0].filename.startswith("shop-")

    code, out, err = run_cli("stock", "explain", STORE, "A-1")
    assert code == 0, err
    assert "letzshop (realtime): would push 5, channel acknowledged 5" in out
    assert "-        1  safety stock" in out and "manual stock (last count + deltas)" in out
    assert "0 - 0 + 0 + 6 - 0 - 0 - 1 = 5; threshold 0 -> 5" in out and "-> accepted" in out
    code, out, err = run_cli("stock", "explain", STORE, "A-1", "--json")
    assert json.loads(out)["channels"][0]["ledger"][0]["pushed_quantity"] == 5

    code, out, err = run_cli("stock", "push", STORE, "letzshop", "--sku", "C-3", "--json")
    assert code == 0 and json.loads(out)["channel_stock.mode"] == "single", err
    code, out, err = run_cli("stock", "push", STORE, "letzshop", "--full", "--json")
    assert code == 0 and json.loads(out)["channel_stock.pushed"] == 3, err
    code, out, err = run_cli("stock", "log", STORE, "--json")
    assert [r["mode"] for r in json.loads(out)] == ["full", "single", "incremental"]
    code, _, err = run_cli("stock", "drift", STORE, "letzshop")
    assert code == 1 and "offers no way to read stock" in err
    code, _, err = run_cli("stock", "explain", STORE, "NOPE")
    assert code == 1 and "no product with SKU 'NOPE'" in err


def test_a_failed_push_fails_its_dagster_run_with_the_reason(cli_shop, run_cli, warehouse):
    with warehouse.begin() as conn:
        save_settings(conn, STORE, "letzshop", delivery={"location": "ftp://127.0.0.1:9/drop/"})
    code, _, err = run_cli("stock", "push", STORE, "letzshop")
    assert code == 1 and "stock push of shop.letzshop failed" in err and "not delivered" in err


def test_sensor_requests_due_channels_with_deterministic_run_keys(cli_shop, warehouse, vault):
    _account, _, location = cli_shop
    with warehouse.begin() as conn:
        save_settings(conn, STORE, "letzshop", strategy="realtime", delivery={"location": location})
    instance = DagsterInstance.ephemeral()
    result = stock_push_sensor(build_sensor_context(instance=instance, resources={"warehouse": warehouse}))
    (request,) = result.run_requests
    assert request.partition_key == "shop.letzshop" and request.tags["marketsync/stock_channel"] == "shop.letzshop"
    assert result.dynamic_partitions_requests[0].partition_keys == ["shop.letzshop"]
    again = stock_push_sensor(build_sensor_context(instance=instance, resources={"warehouse": warehouse}))
    assert again.run_requests[0].run_key == request.run_key
    push_stock(warehouse, vault, STORE, "letzshop")
    idle = stock_push_sensor(build_sensor_context(instance=instance, resources={"warehouse": warehouse}))
    assert not idle.run_requests
    with warehouse.begin() as conn:
        conn.execute(text("INSERT INTO core.stock_adjustments (store_id, product_id, kind, quantity) "
                          "SELECT store_id, product_id, 'count', 4 FROM core.products WHERE sku = 'A-1'"))
    changed = stock_push_sensor(build_sensor_context(instance=instance, resources={"warehouse": warehouse}))
    assert changed.run_requests[0].run_key.startswith("stock:shop.letzshop:change:")


def test_lag_check_fails_until_every_channel_synced_within_its_threshold(cli_shop, warehouse, vault):
    _, _, location = cli_shop
    with warehouse.begin() as conn:
        save_settings(conn, STORE, "letzshop", max_lag_minutes=30, delivery={"location": location})
    never = inventory_sync_lag(warehouse=warehouse)
    assert not never.passed and "shop.letzshop" in never.description
    push_stock(warehouse, vault, STORE, "letzshop")
    assert inventory_sync_lag(warehouse=warehouse).passed
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE ops.inventory_syncs SET finished_at = now() - interval '31 minutes'"))
    late = inventory_sync_lag(warehouse=warehouse)
    assert not late.passed and late.metadata["worst_lag_minutes"].value >= 31


class _ReadableLetzshop(LetzshopCsvStock):
    """The CSV adapter plus a stock read from the simulator's own state: Letzshop's API has none, and
    the drift logic must be proven before Amazon and eBay bring real ones."""

    def __init__(self, inner: LetzshopCsvStock, state):
        super().__init__(inner.target, store=inner.store, filename=inner.filename, delimiter=inner.delimiter)
        self.state = state

    def read_stock(self, skus):
        snapshot = self.state.inventory_snapshot()
        return {sku: snapshot[sku] for sku in skus if sku in snapshot}


def test_drift_check_repairs_what_the_channel_changed_behind_our_back(cli_shop, warehouse, vault):
    _, state, location = cli_shop
    with warehouse.begin() as conn:
        save_settings(conn, STORE, "letzshop", delivery={"location": location})
        for sku in ("A-1", "B-2", "C-3"):
            conn.execute(text("INSERT INTO core.stock_adjustments (store_id, product_id, kind, quantity) "
                              "SELECT store_id, product_id, 'count', 7 FROM core.products WHERE sku = :s"), {"s": sku})

    def factory(conn, settings, vault_, clients=None):
        return _ReadableLetzshop(build_channel(conn, settings, vault_, clients), state)

    push_stock(warehouse, vault, STORE, "letzshop", channel_factory=factory)
    assert drift_check(warehouse, vault, STORE, "letzshop", channel_factory=factory).drifted == 0
    # Someone edits stock in the channel's back office (another file reaching the intake).
    state.receive_inventory_file("backoffice.csv", b"id,quantity\nB-2,40\n")
    found = drift_check(warehouse, vault, STORE, "letzshop", repair=True, channel_factory=factory)
    assert (found.checked, found.drifted) == (3, 1) and found.examples == [
        {"sku": "B-2", "acknowledged": 7, "on_channel": 40}]
    assert found.repair["pushed"] == 1 and state.inventory_stock("B-2") == 7
    with pytest.raises(MarketsyncError, match="no way to read stock"):
        drift_check(warehouse, vault, STORE, "letzshop")


def test_analysts_read_the_stock_views_but_not_ops(cli_shop, warehouse, vault):
    _, _, location = cli_shop
    with warehouse.begin() as conn:
        save_settings(conn, STORE, "letzshop", delivery={"location": location})
    push_stock(warehouse, vault, STORE, "letzshop")
    with warehouse.begin() as conn:
        conn.execute(text("SET LOCAL ROLE analyst"))
        assert conn.execute(text("SELECT count(*) FROM analytics.stock_ledger")).scalar() == 3
        assert conn.execute(text(
            "SELECT count(*) FROM analytics.stock_availability WHERE store = 'shop'")).scalar() == 3
        assert conn.execute(text("SELECT status FROM analytics.inventory_syncs")).scalar() == "succeeded"
        assert conn.execute(text("SELECT stale FROM analytics.inventory_sync_lag")).scalar() is False
        assert conn.execute(text("SELECT count(*) FROM analytics.channel_stock")).scalar() == 3
    with pytest.raises(Exception, match="permission denied"):
        with warehouse.begin() as conn:
            conn.execute(text("SET LOCAL ROLE analyst"))
            conn.execute(text("SELECT * FROM ops.stock_settings"))
