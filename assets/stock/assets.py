"""Stock out as a Dagster asset: core/channel_stock, one partition per store channel ("store.channel"),
is what each channel lists; materialising a partition is a push (incremental by default, full or
single by config). Requested by sensors.stock_push (real-time and batch), by `marketsync stock push`, or
from the launchpad. The asset check inventory_sync_lag fails when a channel's last successful sync is
older than its threshold."""
from dagster import (
    AllPartitionMapping,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetDep,
    AssetExecutionContext,
    AssetKey,
    AssetSelection,
    Backoff,
    Config,
    DefaultScheduleStatus,
    DynamicPartitionsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    ScheduleDefinition,
    asset,
    asset_check,
    define_asset_job,
)
from pydantic import Field
from sqlalchemy import text

from marketsync.assets.channel_registry import channels
from marketsync.assets.stock.push import push_stock
from marketsync.assets.stock.settings import split_partition_key
from marketsync.assets.table_metadata import stored_in, with_table_metadata
from marketsync.resources.celery_queues import pool_queue_tags
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.http_retry import HttpCallError
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse

CHANNEL_STOCK = AssetKey(["core", "channel_stock"])
# What a channel's stock is computed from: the tables the channels' own assets write (named here, not
# imported, so stock stays below the channel packages; tests/test_dagster_definitions.py proves each exists).
STOCK_SOURCES = [AssetKey(list(path)) for c in channels().values()
                 for path in (c.stock_levels, c.orders.asset if c.orders else None, c.catalog) if path]
# The API resources (by channel, their resource keys) of the channels whose stock adapters talk through
# the installation's application client.
STOCK_CLIENTS = {name: c.key for name, c in channels().items() if c.stock and c.application_client}
TRIGGER_TAG = "marketsync/triggered_by"
# One push per store channel at a time (dagster.yaml limits this tag); stock pushes take no store slot.
STOCK_CHANNEL_TAG = "marketsync/stock_channel"

stock_channels = DynamicPartitionsDefinition(name="stock_channels")


class StockPushConfig(Config):
    mode: str = Field("incremental", description="incremental (changed listings), full (all), or single (skus)")
    skus: list[str] = Field(default_factory=list, description="The SKUs of a single push.")


@asset(
    key=CHANNEL_STOCK,
    # Reads every partition (store) of its sources: the link is the store, not a shared partition key.
    deps=[AssetDep(key, partition_mapping=AllPartitionMapping()) for key in STOCK_SOURCES],
    partitions_def=stock_channels,
    kinds={"postgres", "python"},
    metadata=stored_in("core.channel_stock"),
    owners=["team:operations"],
    group_name="stock",
    pool="stock_push",
    op_tags=pool_queue_tags("stock_push"),
    retry_policy=RetryPolicy(max_retries=3, delay=60, backoff=Backoff.EXPONENTIAL),
    # The warehouse, the vault, and the API resources of the channels whose adapters need one: which
    # those are, the channels declare, so the resources are asked for by key rather than as parameters.
    required_resource_keys={"warehouse", "vault", *STOCK_CLIENTS.values()},
)
def channel_stock(context: AssetExecutionContext, config: StockPushConfig) -> MaterializeResult:
    """What each listing shows on the channel: every listing's availability computed from all stock
    sources minus open orders and safety stock, pushed where it differs from what the channel last
    acknowledged, each pushed number explained term by term in core.stock_ledger."""
    store, channel = split_partition_key(context.partition_key)
    warehouse: Warehouse = context.resources.warehouse
    vault: CredentialVault = context.resources.vault
    trigger = context.run.tags.get(TRIGGER_TAG, "dagster")
    try:
        result = push_stock(warehouse, vault, store, channel, mode=config.mode, skus=config.skus or None,
                            triggered_by=trigger, run_id=context.run_id,
                            clients={name: getattr(context.resources, key) for name, key in STOCK_CLIENTS.items()})
    except MarketsyncError as exc:
        if isinstance(exc, HttpCallError) and exc.transient:
            raise  # a network hiccup: the RetryPolicy tries again
        # A person's mistake (unknown SKU, not a listing there, settings) or another push of the same
        # channel running: retrying cannot help, the answer is due at once.
        raise Failure(description=str(exc), allow_retries=False) from None
    metadata = {
        "inventory_sync_id": result.inventory_sync_id, "mode": result.mode, "status": result.status,
        "listings": result.listings, "pushed": result.pushed, "acknowledged": result.acknowledged,
        "rejected": result.rejected, "unanswered": result.unanswered, "seconds": result.seconds,
        "delivered_to": MetadataValue.text(result.delivered_to or "-"), "restated": result.restated,
    }
    if result.status == "failed":
        # A channel that is down is worth retrying; wrong credentials or settings are not, and a person
        # at the command line wants the answer now (the next sensor tick or batch retries anyway).
        raise Failure(description=f"stock push to {channel} for {store} failed: {result.error}",
                      metadata=metadata, allow_retries=result.retryable and trigger != "cli")
    return MaterializeResult(metadata=with_table_metadata(warehouse, "core.channel_stock", metadata))


@asset_check(asset=channel_stock, description="Minutes since each store channel's last successful stock sync, "
                                              "against its max_lag_minutes.")
def inventory_sync_lag(warehouse: Warehouse) -> AssetCheckResult:
    with warehouse.begin() as conn:
        rows = conn.execute(text("SELECT * FROM analytics.inventory_sync_lag ORDER BY store, channel")).mappings().all()
    stale = [r for r in rows if r["stale"]]
    return AssetCheckResult(
        passed=not stale,
        severity=AssetCheckSeverity.ERROR,
        description=("every channel synced within its threshold" if not stale else
                     "stale: " + ", ".join(f"{r['store']}.{r['channel']}" for r in stale)),
        metadata={
            "channels": len(rows),
            "stale": len(stale),
            "worst_lag_minutes": round(max((float(r["lag_minutes"]) for r in rows if r["lag_minutes"] is not None),
                                           default=0.0), 1),
            "lags": MetadataValue.md("\n".join(
                ["| store.channel | lag (min) | max |", "|---|---|---|"]
                + [f"| {r['store']}.{r['channel']} | "
                   f"{'never' if r['lag_minutes'] is None else round(float(r['lag_minutes']), 1)} | "
                   f"{r['max_lag_minutes']} |" for r in rows])),
        })


stock_push_job = define_asset_job("stock_push_job", selection=[CHANNEL_STOCK], partitions_def=stock_channels,
                                  description="Push one store channel's stock (see core/channel_stock).")
inventory_lag_job = define_asset_job("inventory_lag_job", selection=AssetSelection.checks(inventory_sync_lag),
                                     description="Check every store channel's stock sync lag.")
inventory_lag_schedule = ScheduleDefinition(name="inventory_lag_schedule", job=inventory_lag_job,
                                            cron_schedule="*/15 * * * *", execution_timezone="Europe/Berlin",
                                            default_status=DefaultScheduleStatus.RUNNING,
                                            description="Every 15 minutes: is any store channel's stock sync late?")

stock_assets = [channel_stock]
stock_checks = [inventory_sync_lag]
