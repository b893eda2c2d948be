"""Storefront orders as Dagster assets, one partition per store with a storefront account.

The shop pushes its orders to the API, which lands, merges and quick-matches each as it arrives; so
core/storefront_orders is not an import but the daily catch-up (assets/storefront/catch_up.py) and the
place the UI shows what the shop sent. The follow-up stages (matching, then marking the orders followed
up) are every channel's, requested by the new-orders sensor as soon as orders wait for them.
"""
from dagster import AssetExecutionContext, AssetKey, DynamicPartitionsDefinition, MaterializeResult, asset

from marketsync.assets.accounts import get_account
from marketsync.assets.alerts import record_successful_sync
from marketsync.assets.failures import worded_failure
from marketsync.assets.orders.followup import followup_assets
from marketsync.assets.storefront.catch_up import catch_up
from marketsync.assets.table_metadata import stored_in, with_table_metadata
from marketsync.resources.warehouse import Warehouse

ORDERS = AssetKey(["core", "storefront_orders"])
OWNERS = ["team:data-engineering"]
storefront_accounts = DynamicPartitionsDefinition(name="storefront_accounts")


@asset(key=ORDERS, partitions_def=storefront_accounts, kinds={"storefront", "postgres"}, owners=OWNERS,
       group_name="orders", metadata=stored_in("core.orders"))
def storefront_orders(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """The store's own shop's orders in the canonical model (core.orders, core.order_items), each version
    as received in raw.channel_orders. They arrive through the order API of `marketsync serve` (POST
    /stores/{store}/orders, status changes by PATCH), merged as they arrive; this daily catch-up merges
    any received version the canonical orders do not hold, prunes the answers kept for retries and
    reports what the shop sent in the last day."""
    with worded_failure(), warehouse.begin() as conn:
        account = get_account(conn, context.partition_key, "storefront")
        result = catch_up(conn, account)
        record_successful_sync(conn, account.account_id)
    return MaterializeResult(metadata=with_table_metadata(warehouse, "core.orders", result.metadata()))


storefront_assets = [storefront_orders, *followup_assets("storefront", storefront_accounts, ORDERS)]
