"""The orders asset of a channel read incrementally from a cursor (Amazon, eBay): one definition, so every
such channel imports, fails, retries and reports the same way."""

from collections.abc import Callable
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Backoff,
    DynamicPartitionsDefinition,
    MaterializeResult,
    RetryPolicy,
    asset,
)

from marketsync.assets.accounts import get_account
from marketsync.assets.alerts import record_successful_sync
from marketsync.assets.failures import worded_failure
from marketsync.assets.orders.incremental import OrderImport
from marketsync.assets.table_metadata import stored_in, with_table_metadata
from marketsync.resources.celery_queues import pool_queue_tags
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse

OWNERS = ["team:data-engineering"]
# A network error, 429 or 5xx: three more tries, a minute apart and growing. Anything else fails at once.
TRANSIENT_RETRY = RetryPolicy(max_retries=3, delay=60, backoff=Backoff.EXPONENTIAL)

# (warehouse, vault, channel client, store, run_id) -> the import's figures
ImportOrders = Callable[..., OrderImport]


def channel_orders_asset(channel: str, key: AssetKey, partitions_def: DynamicPartitionsDefinition, pool: str,
                         import_orders: ImportOrders, description: str) -> AssetsDefinition:
    """The store's `channel` orders as an asset partitioned per store account: the import (resource key
    `channel` is the channel's client), then the account marked synced and its failure alert closed."""

    @asset(key=key, partitions_def=partitions_def, kinds={channel, "postgres"}, owners=OWNERS, group_name="orders",
           metadata=stored_in("core.orders"), pool=pool, op_tags=pool_queue_tags(pool), retry_policy=TRANSIENT_RETRY,
           description=description,
           required_resource_keys={"warehouse", "vault", channel})
    def channel_orders(context: AssetExecutionContext) -> MaterializeResult:
        with worded_failure():
            metadata = import_store_orders(key, channel, import_orders, context.resources.warehouse,
                                           context.resources.vault, getattr(context.resources, channel),
                                           context.partition_key, context.run_id)
        return MaterializeResult(metadata=metadata[key])

    return channel_orders


def import_store_orders(key: AssetKey, channel: str, import_orders: ImportOrders, warehouse: Warehouse,
                        vault: CredentialVault, client: Any, store: str, run_id: str | None) -> dict[AssetKey, dict]:
    """Import one store's `channel` orders and mark the account synced (its failure alert closed);
    returns the orders asset's materialization metadata. What the asset and the fleet sync both run."""
    result = import_orders(warehouse, vault, client, store, run_id)
    with warehouse.begin() as conn:
        record_successful_sync(conn, get_account(conn, store, channel).account_id)
    return {key: with_table_metadata(warehouse, "core.orders", result.metadata())}
