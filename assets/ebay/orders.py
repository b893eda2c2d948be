"""eBay orders as Dagster assets, one partition per store with an eBay account: core/ebay_orders reads
every order modified since the account's cursor (minus the overlap) through the Fulfillment API, lands
each version in raw.channel_orders, merges the changed ones into the canonical orders and matches their
items to the store's catalog (SKU, then GTIN rules of assets/catalog/matching)."""
from dagster import AssetKey, DynamicPartitionsDefinition

from marketsync.assets.ebay import normalise
from marketsync.assets.ebay.channel import API_POOL
from marketsync.assets.ebay.connection import ebay_session
from marketsync.assets.orders.channel_asset import channel_orders_asset, import_store_orders
from marketsync.assets.orders.followup import followup_assets
from marketsync.assets.orders.incremental import ChannelOrders, OrderImport, import_and_match
from marketsync.resources.ebay import EbayResource
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse

ORDERS = AssetKey(["core", "ebay_orders"])
ebay_accounts = DynamicPartitionsDefinition(name="ebay_accounts")
EBAY_ORDERS = ChannelOrders(channel="ebay", source="ebay.orders", fetch=lambda api, since: api.orders_modified(since),
                            order_id=normalise.order_id, modified_at=normalise.modified_at,
                            normalise=normalise.normalise)


def import_ebay_orders(warehouse: Warehouse, vault: CredentialVault, ebay: EbayResource, store: str,
                       run_id: str | None = None) -> OrderImport:
    """Import and match one store's eBay orders."""
    return import_and_match(warehouse, store, EBAY_ORDERS,
                            lambda account: ebay_session(ebay, warehouse.engine, vault, account), run_id)


def import_store(warehouse: Warehouse, vault: CredentialVault, client: EbayResource, store: str,
                 run_id: str | None, triggered_by: str) -> dict[AssetKey, dict]:
    """The store's whole import, as its orders asset and the fleet sync run it."""
    return import_store_orders(ORDERS, "ebay", import_ebay_orders, warehouse, vault, client, store, run_id)


ebay_orders = channel_orders_asset(
    "ebay", ORDERS, ebay_accounts, pool=API_POOL, import_orders=import_ebay_orders,
    description="The store's eBay orders in the canonical model (core.orders, core.order_items), each version "
                "as received in raw.channel_orders; imported on the account's sync interval (the auto-sync "
                "sensor) from its cursor; matching and the auto-confirm rule follow in the follow-up stages.")


ebay_assets = [ebay_orders, *followup_assets("ebay", ebay_accounts, ORDERS)]
