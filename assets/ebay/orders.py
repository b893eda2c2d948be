"""eBay orders as Dagster assets, one partition per store with an eBay account: core/ebay_orders reads
every order modified since the account's cursor (minus the overlap) through the Fulfillment API, lands
each version in raw.channel_orders, merges the changed ones into the canonical orders and matches their
items to the store's catalog (SKU, then GTIN rules of assets/catalog/matching)."""
from dagster import (AssetExecutionContext, AssetKey, AutomationCondition, Backoff, DynamicPartitionsDefinition,
                     MaterializeResult, RetryPolicy, asset)

from assets.catalog.matching import match_order_items
from assets.ebay import normalise
from assets.orders.incremental import ChannelOrders, OrderImport, import_orders
from pipelines.accounts import get_account
from resources.ebay import EbayResource
from resources.vault import CredentialVault
from resources.warehouse import Warehouse

ORDERS = AssetKey(["core", "ebay_orders"])
ebay_accounts = DynamicPartitionsDefinition(name="ebay_accounts")
EBAY_ORDERS = ChannelOrders(source="ebay.orders", order_id=normalise.order_id, modified_at=normalise.modified_at,
                            normalise=normalise.normalise)


def import_ebay_orders(warehouse: Warehouse, vault: CredentialVault, ebay: EbayResource, store: str,
                       run_id: str | None = None) -> tuple[OrderImport, int]:
    """Import and match one store's eBay orders; returns the import and how many items were matched."""
    with warehouse.begin() as conn:
        account = get_account(conn, store, "ebay")
    with ebay.session(warehouse.engine, vault, account.account_id) as api:
        result = import_orders(warehouse, account, EBAY_ORDERS, lambda since: api.orders_modified(since),
                               run_id=run_id)
    with warehouse.begin() as conn:
        matched = match_order_items(conn, account.store_id)
    return result, matched.matched_by_gtin + matched.matched_by_sku


@asset(
    key=ORDERS,
    partitions_def=ebay_accounts,
    kinds={"ebay", "postgres"},
    owners=["team:data-engineering"],
    group_name="orders",
    pool="ebay_api",
    retry_policy=RetryPolicy(max_retries=3, delay=60, backoff=Backoff.EXPONENTIAL),
    automation_condition=AutomationCondition.on_cron("*/15 * * * *"),
)
def ebay_orders(context: AssetExecutionContext, warehouse: Warehouse, vault: CredentialVault,
                ebay: EbayResource) -> MaterializeResult:
    """The store's eBay orders in the canonical model (core.orders, core.order_items), each version as
    received in raw.channel_orders; refreshed every 15 minutes from the account's cursor."""
    result, matched = import_ebay_orders(warehouse, vault, ebay, context.partition_key, context.run_id)
    return MaterializeResult(metadata={
        "orders_seen": result.orders_seen, "orders_changed": result.orders_changed,
        "orders_created": result.orders_created, "orders_updated": result.orders_updated,
        "items_written": result.items_written, "items_matched": matched, "quarantined": result.quarantined,
        "since": str(result.since), "cursor": str(result.cursor)})


ebay_assets = [ebay_orders]
