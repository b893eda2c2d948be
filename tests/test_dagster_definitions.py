"""The code location loads and validates; its shape is what the docs say; sensors request the right
runs with deterministic run keys."""
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from dagster import AssetKey, DagsterInstance, build_sensor_context
from sqlalchemy import text

from pipelines.accounts import upsert_account
from pipelines.definitions import defs

REPO = Path(__file__).resolve().parents[1]


def test_dagster_definitions_validate(cli_env, database_url):
    env = {**os.environ, "DATABASE_URL": database_url}
    result = subprocess.run([str(Path(sys.executable).with_name("dagster")), "definitions", "validate",
                             "-w", str(REPO / "workspace.yaml")], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr


def test_definitions_snapshot():
    repo = defs.get_repository_def()
    assert sorted(k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()) == [
        "core/amazon_orders", "core/channel_stock", "core/codeswholesale_products", "core/ebay_orders", "core/fulfillment_inbounds", "core/fulfillment_products",
        "core/fulfillment_shipments", "core/fulfillment_stock", "core/letzshop_catalog", "core/letzshop_order_matches",
        "core/letzshop_orders", "core/supplier_feed_products", "ops/fulfillment_outbound_requests",
        "ops/inbound_control_check", "ops/letzshop_auto_confirmations", "raw/inbound_sheet_rows",
        "raw/letzshop_shipments"]
    assert sorted(j.name for j in repo.get_all_jobs() if not j.name.startswith("__")) == [
        "apply_inbox_job", "inbound_check_job", "inventory_lag_job", "jtl_ffn_job", "letzshop_import_job",
        "letzshop_order_followup_job", "outbound_job", "stock_push_job", "supplier_feed_job"]
    assert sorted(s.name for s in repo.sensor_defs) == [
        "catalog_automation_sensor", "channel_partitions_sensor", "codeswholesale_partitions_sensor", "feed_inbox_sensor",
        "inbound_sheet_schedule_sensor", "jtl_ffn_partitions_sensor", "letzshop_auto_sync_sensor", "new_orders_sensor", "outbound_queue_sensor", "run_failure_alert_sensor",
        "stock_push_sensor", "supplier_feed_refresh_sensor"]
    assert {s.name: s.execution_timezone for s in repo.schedule_defs} == {
        "inventory_lag_schedule": "Europe/Berlin", "letzshop_history_schedule": "Europe/Berlin",
        "outbound_sweep_schedule": "Europe/Berlin"}
    orders = repo.asset_graph.get(AssetKey(["core", "letzshop_orders"]))
    assert orders.partitions_def.name == "letzshop_accounts"
    assert orders.owners == ["team:data-engineering"] and "postgres" in orders.kinds
    import_node = repo.asset_graph.get(AssetKey(["raw", "letzshop_shipments"]))
    assert import_node.pools == {"letzshop_api"}
    check = repo.asset_graph.get(AssetKey(["ops", "inbound_control_check"]))
    assert check.partitions_def.name == "jtl_ffn_accounts" and check.pools == {"google_sheets_api"}
    stock = repo.asset_graph.get(AssetKey(["core", "fulfillment_stock"]))
    assert stock.partitions_def.name == "jtl_ffn_accounts" and stock.pools == {"jtl_ffn_api"}
    assert stock.automation_condition is not None
    pushed = repo.asset_graph.get(AssetKey(["core", "channel_stock"]))
    assert pushed.partitions_def.name == "stock_channels" and pushed.pools == {"stock_push"}
    assert {(k.asset_key.to_user_string(), k.name) for k in repo.asset_graph.asset_check_keys} >= {
        ("core/channel_stock", "inventory_sync_lag")}


def _sensor_context(warehouse, cursor=None):
    instance = DagsterInstance.ephemeral()
    return build_sensor_context(instance=instance, cursor=cursor, resources={"warehouse": warehouse}), instance


def test_auto_sync_sensor_requests_due_accounts_once_per_interval(warehouse):
    from sensors.auto_sync import letzshop_auto_sync_sensor

    with warehouse.begin() as conn:
        upsert_account(conn, "due", "letzshop", settings={"sync_interval_minutes": 15})
        upsert_account(conn, "fresh", "letzshop", settings={"sync_interval_minutes": 60})
        conn.execute(text("""UPDATE ops.accounts SET last_synced_at = now() - interval '10 minutes'
                             WHERE store_id = (SELECT store_id FROM ops.stores WHERE code = 'fresh')"""))
    context, _ = _sensor_context(warehouse)
    result = letzshop_auto_sync_sensor(context)
    assert [r.partition_key for r in result.run_requests] == ["due"]
    assert result.run_requests[0].run_key.startswith("letzshop-sync:due:")
    assert sorted(result.dynamic_partitions_requests[0].partition_keys) == ["due", "fresh"]
    again = letzshop_auto_sync_sensor(build_sensor_context(instance=DagsterInstance.ephemeral(), cursor=result.cursor,
                                                           resources={"warehouse": warehouse}))
    assert again.run_requests == []


def test_auto_sync_sensor_retires_partitions_of_removed_accounts(warehouse):
    from sensors.auto_sync import letzshop_auto_sync_sensor

    with warehouse.begin() as conn:
        upsert_account(conn, "kept", "letzshop")
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("letzshop_accounts", ["kept", "closed"])
    result = letzshop_auto_sync_sensor(build_sensor_context(instance=instance, resources={"warehouse": warehouse}))
    [request] = result.dynamic_partitions_requests
    assert type(request).__name__ == "DeleteDynamicPartitionsRequest" and list(request.partition_keys) == ["closed"]


def test_due_slot_is_deterministic():
    from pipelines.accounts import Account
    from sensors.auto_sync import due_slot

    now = datetime(2026, 11, 23, 10, 7, tzinfo=timezone.utc)
    account = Account(1, 1, "s", "letzshop", None, 15, {}, True, now - timedelta(minutes=20))
    assert due_slot(account, now) == due_slot(account, now + timedelta(minutes=3))
    assert due_slot(Account(1, 1, "s", "letzshop", None, 15, {}, True, now - timedelta(minutes=5)), now) is None


def test_new_orders_sensor_cursor_and_run_keys(warehouse):
    from sensors.new_orders import new_orders_sensor

    with warehouse.begin() as conn:
        account = upsert_account(conn, "shop", "letzshop")
        for n in range(3):
            conn.execute(text(
                """INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id,
                                            order_number, channel_state, source_payload_sha)
                   VALUES (:s, :a, 'letzshop', :n, :n, :n, 'unconfirmed', 'x')"""),
                {"s": account.store_id, "a": account.account_id, "n": f"R{n}"})
    context, _ = _sensor_context(warehouse)
    result = new_orders_sensor(context)
    assert [(r.partition_key, r.run_key) for r in result.run_requests] == [("shop", "new-orders:shop:3")]
    assert result.cursor == "3"
    context, _ = _sensor_context(warehouse, cursor=result.cursor)
    assert not getattr(new_orders_sensor(context), "run_requests", None)
