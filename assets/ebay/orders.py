"""eBay orders as Dagster assets, one partition per store with an eBay account: core/ebay_orders reads
every order modified since the account's cursor (minus the overlap) through the Fulfillment API, lands
each version in raw.channel_orders, merges the changed ones into the canonical orders and matches their
items to the store's catalog (SKU, then GTIN rules of assets/catalog/matching)."""
from dagster import (AssetExecutionContext, AssetKey, Backoff, DynamicPartitionsDefinition, MaterializeResult, RetryPolicy, asset)

from assets.ebay import normalise
from assets.failures import worded_failure
from assets.orders.followup import followup_assets
from assets.table_metadata import with_table_metadata
from assets.orders.incremental import ChannelOrders, OrderImport, import_and_match
from resources.ebay import EbayResource
from pipelines.accounts import get_account, mark_synced
from pipelines.alerts import close_alert_streak
from resources.vault import CredentialVault
from resources.warehouse import Warehouse

ORDERS = AssetKey(["core", "ebay_orders"])
ebay_accounts = DynamicPartitionsDefinition(name="ebay_accounts")
EBAY_ORDERS = ChannelOrders(channel="ebay", source="ebay.orders", fetch=lambda api, since: api.orders_modified(since),
                            order_id=normalise.order_id, modified_at=normalise.modified_at,
                            normalise=normalise.normalise)


def import_ebay_orders(warehouse: Warehouse, vault: CredentialVault, ebay: EbayResource, store: str,
                       run_id: str | None = None) -> OrderImport:
    """Import and match one store's eBay orders."""
    return import_and_match(warehouse, store, EBAY_ORDERS,
                            lambda account: ebay.session(warehouse.engine, vault, account.account_id), run_id)


@asset(
    key=ORDERS,
    partitions_def=ebay_accounts,
    kinds={"ebay", "postgres"},
    owners=["team:data-engineering"],
    group_name="orders",
    pool="ebay_api",
    retry_policy=RetryPolicy(max_retries=3, delay=60, backoff=Backoff.EXPONENTIAL),
)
def ebay_orders(context: AssetExecutionContext, warehouse: Warehouse, vault: CredentialVault,
                ebay: EbayResource) -> MaterializeResult:
    """The store's eBay orders in the canonical model (core.orders, core.order_items), each version as
    received in raw.channel_orders; imported on the account's sync interval (the auto-sync
    sensor) from its cursor; matching and the auto-confirm rule follow in the follow-up stages."""
    with worded_failure():
        result = import_ebay_orders(warehouse, vault, ebay, context.partition_key, context.run_id)
    with warehouse.begin() as conn:
        account_id = get_account(conn, context.partition_key, "ebay").account_id
        mark_synced(conn, account_id)
        close_alert_streak(conn, account_id)
    return MaterializeResult(metadata=with_table_metadata(warehouse, "core.orders", result.metadata()))


ebay_assets = [ebay_orders, *followup_assets("ebay", ebay_accounts, ORDERS)]
