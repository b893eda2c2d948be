"""Amazon orders as Dagster assets, one partition per store with an Amazon account: core/amazon_orders
reads every order updated since the account's cursor minus the overlap (at least the 10 minutes the
Orders API asks for; the client keeps the window's end 2 minutes before now) through searchOrders, lands
each version in raw.channel_orders, merges the changed ones into the canonical orders and matches their
items to the store's catalog."""
from dagster import AssetKey, DynamicPartitionsDefinition

from marketsync.assets.amazon import normalise
from marketsync.assets.amazon.channel import API_POOL
from marketsync.assets.amazon.connection import amazon_session
from marketsync.assets.orders.channel_asset import channel_orders_asset, import_store_orders
from marketsync.assets.orders.followup import followup_assets
from marketsync.assets.orders.incremental import ChannelOrders, OrderImport, import_and_match
from marketsync.resources.amazon_sp_api import AmazonSpApiResource
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse

ORDERS = AssetKey(["core", "amazon_orders"])
amazon_accounts = DynamicPartitionsDefinition(name="amazon_accounts")
AMAZON_ORDERS = ChannelOrders(channel="amazon", source="amazon.orders",
                              fetch=lambda api, since: api.search_orders(last_updated_after=since),
                              order_id=normalise.order_id, modified_at=normalise.modified_at,
                              normalise=normalise.normalise)


def import_amazon_orders(warehouse: Warehouse, vault: CredentialVault, amazon: AmazonSpApiResource, store: str,
                         run_id: str | None = None, **session_options) -> OrderImport:
    """Import and match one store's Amazon orders."""
    return import_and_match(warehouse, store, AMAZON_ORDERS,
                            lambda account: amazon_session(amazon, warehouse.engine, vault, account,
                                                           **session_options), run_id)


def import_store(warehouse: Warehouse, vault: CredentialVault, client: AmazonSpApiResource, store: str,
                 run_id: str | None, triggered_by: str) -> dict[AssetKey, dict]:
    """The store's whole import, as its orders asset and the fleet sync run it."""
    return import_store_orders(ORDERS, "amazon", import_amazon_orders, warehouse, vault, client, store, run_id)


amazon_orders = channel_orders_asset(
    "amazon", ORDERS, amazon_accounts, pool=API_POOL, import_orders=import_amazon_orders,
    description="The store's Amazon orders in the canonical model (core.orders, core.order_items), each version "
                "as received in raw.channel_orders; imported on the account's sync interval (the auto-sync "
                "sensor) from its cursor; matching and the auto-confirm rule follow in the follow-up stages.")


amazon_assets = [amazon_orders, *followup_assets("amazon", amazon_accounts, ORDERS)]
