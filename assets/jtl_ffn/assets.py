"""JTL-FFN as Dagster assets, one partition per store with a `jtl_ffn` account: what the warehouse
holds (products, stock, inbounds), the orders handed to it, and its shipments carried back to the
marketplaces as tracking. Fetch -> land raw -> normalise (sync.py) -> act (outbound.py)."""
from contextlib import contextmanager
from datetime import timedelta

from dagster import (
    AllPartitionMapping,
    AssetDep,
    AssetExecutionContext,
    AssetKey,
    AssetSelection,
    AssetSpec,
    AutomationCondition,
    Backoff,
    DynamicPartitionsDefinition,
    FreshnessPolicy,
    MaterializeResult,
    RetryPolicy,
    define_asset_job,
    multi_asset,
)

from marketsync.assets.failures import worded_failure
from marketsync.assets.jtl_ffn.channel import API_POOL
from marketsync.assets.jtl_ffn.connection import account_session
from marketsync.assets.jtl_ffn.outbound import queue_outbounds, queue_tracking
from marketsync.assets.jtl_ffn.sync import sync_inbounds, sync_products, sync_shipments, sync_stock
from marketsync.assets.table_metadata import stored_in, with_table_metadata
from marketsync.resources.celery_queues import pool_queue_tags
from marketsync.resources.jtl_ffn import JtlFfnResource
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse

jtl_ffn_accounts = DynamicPartitionsDefinition(name="jtl_ffn_accounts")
PRODUCTS = AssetKey(["core", "fulfillment_products"])
STOCK = AssetKey(["core", "fulfillment_stock"])
INBOUNDS = AssetKey(["core", "fulfillment_inbounds"])
OUTBOUNDS = AssetKey(["ops", "fulfillment_outbound_requests"])
SHIPMENTS = AssetKey(["core", "fulfillment_shipments"])
# The table each asset is stored in (its standard table metadata is read from it after every run).
TABLES = {PRODUCTS: "core.fulfillment_products", STOCK: "core.fulfillment_stock", INBOUNDS: "core.fulfillment_inbounds",
          OUTBOUNDS: "core.fulfillment_outbounds", SHIPMENTS: "core.fulfillment_shipments"}
# The marketplace orders the warehouse is handed (every channel's confirmed orders of the store).
ORDER_KEYS = [AssetKey(["core", f"{channel}_orders"]) for channel in ("letzshop", "amazon", "ebay")]
# Synced hourly: late after two hours, failed after four.
_COMMON = {"kinds": {"jtl", "postgres"}, "owners": ["team:operations"], "group_name": "fulfillment",
           "freshness_policy": FreshnessPolicy.time_window(fail_window=timedelta(hours=4),
                                                           warn_window=timedelta(hours=2))}
_RETRY = RetryPolicy(max_retries=3, delay=20, backoff=Backoff.EXPONENTIAL)
# Every hour, and whenever an upstream asset changed (the checker and the shipments follow the stock).
_HOURLY = AutomationCondition.on_cron("0 * * * *")


@contextmanager
def ffn_session(warehouse: Warehouse, vault: CredentialVault, jtl_ffn: JtlFfnResource, store: str):
    """The store's FFN account and an API session for it; a worded error fails the step, retried only
    when transient (a missing client or revoked tokens fail at once)."""
    with worded_failure(), account_session(warehouse, vault, jtl_ffn, store) as session:
        yield session


@multi_asset(
    specs=[AssetSpec(PRODUCTS, description="The merchant's SKUs as the fulfiller knows them (merchantSku -> jfsku).",
                     automation_condition=_HOURLY, metadata=stored_in(TABLES[PRODUCTS]), **_COMMON),
           AssetSpec(STOCK, deps=[PRODUCTS], automation_condition=_HOURLY, metadata=stored_in(TABLES[STOCK]),
                     description="Units per jfsku and warehouse: in stock, reserved, blocked, announced.", **_COMMON),
           AssetSpec(INBOUNDS, deps=[PRODUCTS], automation_condition=_HOURLY, metadata=stored_in(TABLES[INBOUNDS]),
                     description="Deliveries to the warehouse and the units received of each item.", **_COMMON)],
    partitions_def=jtl_ffn_accounts, pool=API_POOL, op_tags=pool_queue_tags(API_POOL), retry_policy=_RETRY,
    can_subset=True,
)
def fulfillment_holdings(context: AssetExecutionContext, warehouse: Warehouse, vault: CredentialVault,
                         jtl_ffn: JtlFfnResource):
    """What the warehouse holds for the store, as full snapshots."""
    with ffn_session(warehouse, vault, jtl_ffn, context.partition_key) as (account, api):
        for key, sync in ((PRODUCTS, sync_products), (STOCK, sync_stock), (INBOUNDS, sync_inbounds)):
            if key in context.selected_asset_keys:
                result = sync(warehouse, api, account.account_id)
                yield MaterializeResult(asset_key=key, metadata=with_table_metadata(warehouse, TABLES[key], {
                    "fetched": result.fetched, "raw_versions_new": result.raw_new, "rows_written": result.written,
                    "rows_removed": result.removed}))


@multi_asset(
    # Reads the store's confirmed orders of every channel (the link is the store, not a shared partition
    # key); the hourly run does not wait for every store's orders to be refreshed.
    specs=[AssetSpec(OUTBOUNDS, deps=[PRODUCTS, STOCK, *(AssetDep(key, partition_mapping=AllPartitionMapping())
                                                         for key in ORDER_KEYS)],
                     automation_condition=_HOURLY.ignore(AssetSelection.assets(*ORDER_KEYS)),
                     metadata=stored_in(TABLES[OUTBOUNDS]),
                     description="Confirmed marketplace orders queued as FFN outbounds (exactly once each).",
                     **_COMMON),
           AssetSpec(SHIPMENTS, deps=[OUTBOUNDS], automation_condition=_HOURLY, metadata=stored_in(TABLES[SHIPMENTS]),
                     description="The warehouse's shipping notifications; each outbound's first one becomes the "
                                 "marketplace order's tracking, queued through the outbound queue.", **_COMMON)],
    partitions_def=jtl_ffn_accounts, pool=API_POOL, op_tags=pool_queue_tags(API_POOL), retry_policy=_RETRY,
)
def fulfillment_flow(context: AssetExecutionContext, warehouse: Warehouse, vault: CredentialVault,
                     jtl_ffn: JtlFfnResource):
    """Orders to the warehouse, shipments back (the outbound queue sends both)."""
    with ffn_session(warehouse, vault, jtl_ffn, context.partition_key) as (account, api):
        with warehouse.begin() as conn:
            queued = queue_outbounds(conn, account, triggered_by=f"dagster:{context.run_id[:8]}")
        yield MaterializeResult(asset_key=OUTBOUNDS, metadata=with_table_metadata(warehouse, TABLES[OUTBOUNDS], queued))
        shipments = sync_shipments(warehouse, api, account.account_id)
        with warehouse.begin() as conn:
            tracking = queue_tracking(conn, account, triggered_by=f"dagster:{context.run_id[:8]}")
        yield MaterializeResult(asset_key=SHIPMENTS, metadata=with_table_metadata(
            warehouse, TABLES[SHIPMENTS], {"notifications_new": shipments.written, **tracking}))


jtl_ffn_job = define_asset_job("jtl_ffn_job", selection=[PRODUCTS, STOCK, INBOUNDS, OUTBOUNDS, SHIPMENTS],
                               partitions_def=jtl_ffn_accounts,
                               description="Sync one store's JTL-FFN holdings, hand its confirmed orders to the "
                                           "warehouse and bring the warehouse's shipments back as tracking.")


jtl_ffn_assets = [fulfillment_holdings, fulfillment_flow]
