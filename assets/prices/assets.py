"""Prices out as Dagster assets: the daily `product_price_sync` per store account, one asset per channel
that declares a price adapter (core/<channel>_channel_prices, partitioned by store, in the channel's API
pool), each with its job and a daily schedule. Materialising a partition is a price push (incremental by
default, full by config); `marketsync prices push` runs the same asset."""
from datetime import UTC, datetime

from dagster import (
    AssetExecutionContext,
    AssetKey,
    Backoff,
    Config,
    DefaultScheduleStatus,
    DynamicPartitionsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    asset,
    define_asset_job,
    schedule,
)
from pydantic import Field

from marketsync.assets.channel_registry import Channel, channels
from marketsync.assets.prices.push import push_prices
from marketsync.assets.prices.settings import all_settings
from marketsync.assets.table_metadata import stored_in, with_table_metadata
from marketsync.resources.celery_queues import pool_queue_tags
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.http_retry import HttpCallError
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse

TRIGGER_TAG = "marketsync/triggered_by"
# Every morning before the shops' busy hours, in the merchants' time zone.
DAILY_AT = "30 5 * * *"


class PricePushConfig(Config):
    mode: str = Field("incremental", description="incremental (changed listings) or full (every listing)")


def price_asset_key(channel: str) -> AssetKey:
    return AssetKey(["core", f"{channel}_channel_prices"])


def price_partitions(channel: str) -> DynamicPartitionsDefinition:
    """One partition per store (its code) with a price rule on `channel`."""
    return DynamicPartitionsDefinition(name=f"{channel}_price_stores")


def _metadata(result) -> dict:
    return {"price_sync_id": result.price_sync_id, "mode": result.mode, "status": result.status,
            "listings": result.listings, "pushed": result.pushed,
            "acknowledged": result.acknowledged, "rejected": result.rejected, "unanswered": result.unanswered,
            "no_price": result.no_price, "restated": result.restated, "seconds": result.seconds,
            "delivered_to": MetadataValue.text(result.delivered_to or "-")}


def build_price_sync(declaration: Channel):
    """The asset, job and daily schedule of one channel's product_price_sync."""
    name, label = declaration.name, declaration.label
    partitions = price_partitions(name)
    client_key = declaration.key if declaration.application_client else None
    pool = declaration.outbound.pool if declaration.outbound else None

    @asset(
        key=price_asset_key(name),
        partitions_def=partitions,
        kinds={"postgres", "python", name},
        metadata=stored_in("core.channel_prices"),
        owners=["team:operations"],
        group_name="prices",
        pool=pool,
        op_tags=pool_queue_tags(pool),
        retry_policy=RetryPolicy(max_retries=3, delay=60, backoff=Backoff.EXPONENTIAL),
        required_resource_keys={"warehouse", "vault", *([client_key] if client_key else [])},
        description=f"product_price_sync to {label}: what each listing costs on {label}, by the store channel's "
                    f"price rule (base = the store's price, else the catalog's; markup, rounding, ceiling, then "
                    f"the floor, which always wins), pushed where it differs from what {label} last acknowledged, "
                    f"each pushed price explained term by term in core.price_ledger.",
    )
    def channel_prices(context: AssetExecutionContext, config: PricePushConfig) -> MaterializeResult:
        """One store's product_price_sync to the channel: the prices that changed (or all, full)."""
        warehouse: Warehouse = context.resources.warehouse
        vault: CredentialVault = context.resources.vault
        trigger = context.run.tags.get(TRIGGER_TAG, "dagster")
        clients = {name: getattr(context.resources, client_key)} if client_key else {}
        try:
            result = push_prices(warehouse, vault, context.partition_key, name, mode=config.mode,
                                 triggered_by=trigger, run_id=context.run_id, clients=clients)
        except MarketsyncError as exc:
            if isinstance(exc, HttpCallError) and exc.transient:
                raise  # a network hiccup: the RetryPolicy tries again
            raise Failure(description=str(exc), allow_retries=False) from None
        metadata = _metadata(result)
        if result.status == "failed":
            raise Failure(description=f"price push to {label} for {context.partition_key} failed: {result.error}",
                          metadata=metadata, allow_retries=result.retryable and trigger != "cli")
        return MaterializeResult(metadata=with_table_metadata(warehouse, "core.channel_prices", metadata))

    job = define_asset_job(f"{name}_product_price_sync_job", selection=[price_asset_key(name)],
                           partitions_def=partitions,
                           description=f"Push one store's prices to {label} "
                                       f"({price_asset_key(name).to_user_string()}).")

    @schedule(name=f"{name}_product_price_sync_schedule", job=job, cron_schedule=DAILY_AT,
              execution_timezone="Europe/Berlin", default_status=DefaultScheduleStatus.RUNNING,
              description=f"Daily product_price_sync: every store with a price rule on {label}.")
    def daily(context: ScheduleEvaluationContext, warehouse: Warehouse):
        with warehouse.begin() as conn:
            stores = sorted({s.store for s in all_settings(conn) if s.channel == name})
        if not stores:
            return SkipReason(f"no store has a price rule on {label}")
        known = set(context.instance.get_dynamic_partitions(partitions.name))
        if set(stores) - known:
            context.instance.add_dynamic_partitions(partitions.name, sorted(set(stores) - known))
        day = (context.scheduled_execution_time or datetime.now(UTC)).strftime("%Y-%m-%d")
        return [RunRequest(run_key=f"prices:{store}.{name}:{day}", partition_key=store,
                           tags={TRIGGER_TAG: "schedule"}) for store in stores]

    return channel_prices, job, daily


PRICE_SYNCS = {name: build_price_sync(c) for name, c in channels().items() if c.prices is not None}
price_assets = [a for a, _, _ in PRICE_SYNCS.values()]
price_jobs = [j for _, j, _ in PRICE_SYNCS.values()]
price_schedules = [s for _, _, s in PRICE_SYNCS.values()]
