"""The order assets as Dagster runs them: one import and its follow-up for a store on the Letzshop
simulator, each materialisation carrying Dagster's standard table metadata for the table it writes."""
from dagster import DagsterInstance, materialize


def _figures(event) -> dict:
    metadata = event.event_specific_data.materialization.metadata
    return {key: getattr(value, "value", value) for key, value in metadata.items()}


def test_import_and_follow_up_describe_the_tables_they_write(shop, tmp_path):
    from marketsync.assets.letzshop.orders import letzshop_accounts, letzshop_assets

    shop.load_catalog(tmp_path / "catalog.csv")
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(letzshop_accounts.name, ["shop"])
        result = materialize(letzshop_assets, partition_key="shop", instance=instance,
                             resources={"warehouse": shop.warehouse, "vault": shop.vault, "letzshop": shop.letzshop})
        assert result.success
        figures = {event.asset_key.to_user_string(): _figures(event)
                   for event in result.get_asset_materialization_events()}
    assert {key: value["dagster/table_name"] for key, value in figures.items() if "dagster/table_name" in value} == {
        "raw/letzshop_shipments": "raw.letzshop_shipments", "core/letzshop_orders": "core.orders",
        "core/letzshop_order_matches": "core.order_items"}
    orders = figures["core/letzshop_orders"]
    assert orders["dagster/row_count"] == orders["orders_created"] > 0 and orders["row_count_exact"]
    columns = {column.name for column in orders["dagster/column_schema"].columns}
    assert {"order_id", "store_id", "channel", "followed_up_at"} <= columns
    assert (figures["raw/letzshop_shipments"]["dagster/row_count"]
            >= figures["raw/letzshop_shipments"]["versions_landed"] > 0)
