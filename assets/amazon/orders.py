"""Amazon orders as Dagster assets, one partition per store with an Amazon account: core/amazon_orders
reads every order updated since the account's cursor minus the overlap (at least the 10 minutes the
Orders API asks for; the client keeps the window's end 2 minutes before now) through searchOrders, lands
each version in raw.channel_orders, merges the changed ones into the canonical orders and matches their
items to the store's catalog."""
from dagster import (AssetExecutionContext, AssetKey, Backoff, DynamicPartitionsDefinition, MaterializeResult, RetryPolicy, asset)

from assets.amazon import normalise
from assets.failures import worded_failure
from assets.orders.followup import followup_assets
from assets.table_metadata import with_table_metadata
from assets.orders.incremental import ChannelOrders, OrderImport, import_and_match
from resources.amazon_sp_api import AmazonSpApiResource
from pipelines.accounts import get_account, mark_synced
from pipelines.alerts import close_alert_streak
from resources.vault import CredentialVault
from resources.warehouse import Warehouse

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
                            lambda account: amazon.session(warehouse.engine, vault, account.account_id,
                                                           **session_options), run_id)


@asset(
    key=ORDERS,
    partitions_def=amazon_accounts,
    kinds={"amazon", "postgres"},
    owners=["team:data-engineering"],
    group_name="orders",
    pool="amazon_sp_api",
    retry_policy=RetryPolicy(max_retries=3, delay=60, backoff=Backoff.EXPONENTIAL),
)
def amazon_orders(context: AssetExecutionContext, warehouse: Warehouse, vault: CredentialVault,
                  amazon: AmazonSpApiResource) -> MaterializeResult:
    """The store's Amazon orders in the canonical model (core.orders, core.order_items), each version as
    received in raw.channel_orders; imported on the account's sync interval (the auto-sync
    sensor) from its cursor; matching and the auto-confirm rule follow in the follow-up stages."""
    with worded_failure():
        result = import_amazon_orders(warehouse, vault, amazon, context.partition_key, context.run_id)
    with warehouse.begin() as conn:
        account_id = get_account(conn, context.partition_key, "amazon").account_id
        mark_synced(conn, account_id)
        close_alert_streak(conn, account_id)
    return MaterializeResult(metadata=with_table_metadata(warehouse, "core.orders", result.metadata()))


amazon_assets = [amazon_orders, *followup_assets("amazon", amazon_accounts, ORDERS)]
