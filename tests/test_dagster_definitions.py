"""The code location loads and validates; its shape is what the docs say; sensors request the right
runs with deterministic run keys."""
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dagster import AssetKey

from marketsync.pipelines.definitions import defs

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
        "core/amazon_channel_prices", "core/amazon_order_matches", "core/amazon_orders", "core/channel_stock",
        "core/codeswholesale_products", "core/ebay_channel_prices", "core/ebay_order_matches", "core/ebay_orders",
        "core/fulfillment_inbounds", "core/fulfillment_products",
        "core/fulfillment_shipments", "core/fulfillment_stock", "core/letzshop_catalog",
        "core/letzshop_channel_prices", "core/letzshop_order_matches",
        "core/letzshop_orders", "core/storefront_order_matches", "core/storefront_orders",
        "core/supplier_feed_products", "exports/letzshop_catalog_feed",
        "ops/amazon_auto_confirmations",
        "ops/amazon_reconciliation",
        "ops/codeswholesale_balance", "ops/digital_fulfilment", "ops/ebay_auto_confirmations",
        "ops/ebay_reconciliation",
        "ops/fulfillment_outbound_requests", "ops/inbound_control_check", "ops/integration_metrics",
        "ops/letzshop_auto_confirmations",
        "ops/letzshop_reconciliation", "ops/storefront_auto_confirmations", "privacy/personal_data_retention",
        "raw/inbound_sheet_rows",
        "raw/letzshop_shipments"]
    assert sorted(j.name for j in repo.get_all_jobs() if not j.name.startswith("__")) == [
        "amazon_fleet_sync_job", "amazon_import_job", "amazon_order_followup_job", "amazon_product_price_sync_job",
        "amazon_reconciliation_job",
        "apply_inbox_job", "codeswholesale_balance_job",
        "digital_fulfilment_job",
        "ebay_fleet_sync_job", "ebay_import_job",
        "ebay_order_followup_job", "ebay_product_price_sync_job",
        "ebay_reconciliation_job",
        "inbound_check_job", "integration_metrics_job", "inventory_lag_job", "jtl_ffn_job",
        "letzshop_fleet_sync_job", "letzshop_import_job",
        "letzshop_order_followup_job", "letzshop_product_price_sync_job",
        "letzshop_reconciliation_job",
        "outbound_job", "personal_data_retention_job", "stock_push_job", "storefront_import_job",
        "storefront_order_followup_job", "supplier_feed_job"]
    assert sorted(s.name for s in repo.sensor_defs) == [
        "account_partitions_sensor", "alerting_sensor", "catalog_automation_sensor",
        "codeswholesale_partitions_sensor",
        "digital_orders_sensor", "feed_inbox_sensor", "inbound_sheet_schedule_sensor", "new_orders_sensor",
        "order_auto_sync_sensor", "outbound_queue_sensor",
        "reconciliation_sensor",
        "run_failure_alert_sensor", "stock_push_sensor",
        "supplier_feed_refresh_sensor", "sync_log_sweep_sensor"]
    assert {s.name: s.execution_timezone for s in repo.schedule_defs} == {
        "amazon_product_price_sync_schedule": "Europe/Berlin", "ebay_product_price_sync_schedule": "Europe/Berlin",
        "letzshop_product_price_sync_schedule": "Europe/Berlin",
        "codeswholesale_balance_schedule": "Europe/Berlin", "integration_metrics_schedule": "Europe/Berlin",
        "inventory_lag_schedule": "Europe/Berlin",
        "letzshop_history_schedule": "Europe/Berlin",
        "outbound_sweep_schedule": "Europe/Berlin", "personal_data_retention_schedule": "Europe/Berlin"}
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
    # The daily product_price_sync: one asset per price channel, by store, in the channel's API pool.
    for channel, pool in (("amazon", "amazon_sp_api"), ("ebay", "ebay_api"), ("letzshop", "letzshop_api")):
        priced = repo.asset_graph.get(AssetKey(["core", f"{channel}_channel_prices"]))
        assert priced.partitions_def.name == f"{channel}_price_stores" and priced.pools == {pool}
        assert priced.owners == ["team:operations"] and "postgres" in priced.kinds
    pushed = repo.asset_graph.get(AssetKey(["core", "channel_stock"]))
    assert pushed.partitions_def.name == "stock_channels" and pushed.pools == {"stock_push"}
    # Stock names its sources by key (it sits below the channel packages): each is an asset we define.
    assert len(pushed.parent_keys) == 8  # the storefront's orders hold stock too
    assert all(repo.asset_graph.get(key).is_materializable for key in pushed.parent_keys)
    assert {(k.asset_key.to_user_string(), k.name) for k in repo.asset_graph.asset_check_keys} >= {
        ("core/channel_stock", "inventory_sync_lag"), ("ops/digital_fulfilment", "digital_fulfilment_success_rate"),
        ("ops/codeswholesale_balance", "balance_covers_purchases")}
    for digital, partitions in (("ops/digital_fulfilment", "digital_stores"),
                                ("ops/codeswholesale_balance", "codeswholesale_accounts")):
        node = repo.asset_graph.get(AssetKey.from_user_string(digital))
        assert node.pools == {"codeswholesale_api"} and node.partitions_def.name == partitions
    # Reconciliation: per channel, on the partitions of its orders, in its API pool, with a partitioned check.
    for channel, pool in (("letzshop", "letzshop_api"), ("amazon", "amazon_sp_api"), ("ebay", "ebay_api")):
        node = repo.asset_graph.get(AssetKey(["ops", f"{channel}_reconciliation"]))
        assert node.partitions_def.name == f"{channel}_accounts" and node.pools == {pool}
        assert AssetKey(["core", f"{channel}_orders"]) in node.parent_keys and channel in node.kinds
        (check,) = [k for k in repo.asset_graph.asset_check_keys if k.asset_key == node.key]
        assert check.name == "matches_channel"
        assert repo.asset_graph.get(check).partitions_def.name == f"{channel}_accounts"
    # What the UI's sensor and schedule lists show: each says what it does.
    assert [s.name for s in [*repo.sensor_defs, *repo.schedule_defs] if not (s.description or "").strip()] == []
    assert all(node.description for node in repo.asset_graph.asset_nodes), "every asset states its business meaning"


# The table each table asset is stored in (dagster/table_name on its definition). The others act (confirm,
# reconcile, buy keys, export a file, remove expired data) rather than hold a table of their own.
TABLE_ASSETS = {
    **{f"core/{c}_orders": "core.orders" for c in ("amazon", "ebay", "letzshop", "storefront")},
    **{f"core/{c}_order_matches": "core.order_items" for c in ("amazon", "ebay", "letzshop", "storefront")},
    **{f"core/{c}_channel_prices": "core.channel_prices" for c in ("amazon", "ebay", "letzshop")},
    **{f"core/{a}": "core.marketplace_products"
       for a in ("codeswholesale_products", "letzshop_catalog", "supplier_feed_products")},
    **{f"core/fulfillment_{t}": f"core.fulfillment_{t}" for t in ("inbounds", "products", "shipments", "stock")},
    "core/channel_stock": "core.channel_stock", "ops/fulfillment_outbound_requests": "core.fulfillment_outbounds",
    "ops/inbound_control_check": "ops.inbound_checks", "raw/inbound_sheet_rows": "raw.inbound_sheet_rows",
    "raw/letzshop_shipments": "raw.letzshop_shipments",
}


def test_every_table_asset_carries_its_table_and_described_columns(warehouse):
    """The catalog shows where each asset lives and what its columns mean, from the definitions alone, with
    the very comments of the database (assets/table_columns.json, written by `make dictionary`)."""
    from marketsync.assets.table_metadata import column_schema

    graph = defs.get_repository_def().asset_graph
    declared = {key.to_user_string(): graph.get(key).metadata for key in graph.get_all_asset_keys()}
    assert {key: str(m["dagster/table_name"]) for key, m in declared.items() if "dagster/table_name" in m} \
        == TABLE_ASSETS
    with warehouse.begin() as conn:
        for key, table in TABLE_ASSETS.items():
            schema = declared[key].get("dagster/column_schema")
            assert schema is not None and schema == column_schema(conn, table), \
                f"{key}: the columns of {table} differ from assets/table_columns.json: run `make dictionary`"
            undescribed = [c.name for c in schema.columns if not c.description]
            assert not undescribed, f"{table}: columns without a comment: {undescribed}"


def test_due_slot_is_deterministic():
    from marketsync.assets.accounts import Account
    from marketsync.sensors.auto_sync import due_slot

    now = datetime(2026, 11, 23, 10, 7, tzinfo=UTC)
    account = Account(1, 1, "s", "letzshop", None, 15, {}, True, now - timedelta(minutes=20))
    assert due_slot(account, now) == due_slot(account, now + timedelta(minutes=3))
    assert due_slot(Account(1, 1, "s", "letzshop", None, 15, {}, True, now - timedelta(minutes=5)), now) is None
