"""eBay orders as Dagster assets, one partition per store with an eBay account: core/ebay_orders reads
every order modified since the account's cursor (minus the overlap) through the Fulfillment API, lands
each version in raw.channel_orders, merges the changed ones into the canonical orders and matches their
items to the store's catalog (SKU, then GTIN rules of assets/catalog/matching)."""
from dagster import (AssetExecutionContext, AssetKey, AutomationCondition, Backoff, DynamicPartitionsDefinition,
                     MaterializeResult, RetryPolicy, asset)

from assets.ebay import normalise
from assets.orders.incremental import ChannelOrders, OrderImport, import_and_match
from resources.ebay import EbayResource
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
    automation_condition=AutomationCondition.on_cron("*/15 * * * *"),
)
def ebay_orders(context: AssetExecutionContext, warehouse: Warehouse, vault: CredentialVault,
                ebay: EbayResource) -> MaterializeResult:
    """The store's eBay orders in the canonical model (core.orders, core.order_items), each version as
    received in raw.channel_orders; refreshed every 15 minutes from the account's cursor."""
    return MaterializeResult(metadata=import_ebay_orders(warehouse, vault, ebay, context.partition_key,
                                                         context.run_id).metadata())


ebay_assets = [ebay_orders]
