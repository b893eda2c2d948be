"""Fleet sync jobs: one run imports and follows up a bounded batch of a channel's due store accounts, so
routine polling of a thousand stores costs a few dozen runs, not thousands (assets/orders/fleet.py does
the work; the auto-sync sensor chooses the batches).

The run reports to Dagster what a run per store would: each store's partition of the channel's orders
asset (and of its raw asset, matches and auto-confirmations) is materialised with that store's own
metadata as soon as the store ends. A store that fails is logged with its worded reason and left
unmaterialised; when the batch is done the run fails naming those stores, and the auto-sync sensor
retries each of them alone, as the store's own import run, whose failure its partition then shows. A run
started by hand (the UI, `marketsync sync orders`, a re-execution) still targets one store.

Settings (environment, read at run time):
- MARKETSYNC_FLEET_STORE_CONCURRENCY: stores of one batch synced at once (default: half the process's
  warehouse pool, 2 at the default settings, so that a store's import and its sync-log write never wait
  for each other's connection). With the API pool's limit (dagster.yaml) it bounds the connections to
  one API host: pool limit x this (each store's client calls one request at a time).
"""

import os
from dataclasses import dataclass

from dagster import (
    AssetMaterialization,
    Config,
    Failure,
    JobDefinition,
    MetadataValue,
    OpExecutionContext,
    in_process_executor,
    job,
    op,
)

from marketsync.assets.channel_registry import Channel, channels, load
from marketsync.assets.orders.fleet import StoreSync, sync_fleet, sync_store
from marketsync.resources.celery_queues import celery_profile, pool_queue_tags
from marketsync.resources.database import pool_bounds
from marketsync.sensors.jobs import CHANNEL_TAG, RUN_KIND_TAG

FLEET_RUN_KIND = "fleet"


def store_concurrency() -> int:
    size, overflow = pool_bounds()
    return max(1, int(os.environ.get("MARKETSYNC_FLEET_STORE_CONCURRENCY") or (size + overflow) // 2))


class FleetSyncConfig(Config):
    """The store accounts (store codes) this run syncs, chosen by the auto-sync sensor."""

    stores: list[str]


@dataclass(frozen=True)
class FleetJob:
    """A channel's fleet sync job and the name of its op (whose config lists the stores)."""
    channel: str
    job: JobDefinition
    op_name: str

    def run_config(self, stores: list[str]) -> dict:
        return {"ops": {self.op_name: {"config": {"stores": list(stores)}}}}

    def stores_of(self, run_config: dict) -> list[str]:
        """The stores a run of this job was asked to sync, from its run config."""
        op_config = ((run_config or {}).get("ops") or {}).get(self.op_name) or {}
        return list((op_config.get("config") or {}).get("stores") or [])


def _import_pool(channel: Channel) -> str | None:
    """The API pool of the channel's import asset: a fleet run holds one slot of it, as an import run does."""
    orders = channel.orders
    if orders is None:
        raise ValueError(f"{channel.name} declares no order import")
    import_def = load(orders.import_asset) if orders.import_asset else next(
        a for a in load(orders.assets) if tuple(orders.asset) in {tuple(k.path) for k in a.keys})
    return import_def.op.pool


def _report(context: OpExecutionContext, outcome: StoreSync) -> None:
    for key, metadata in outcome.materialized.items():
        context.log_event(AssetMaterialization(asset_key=key, partition=outcome.store, metadata={
            **metadata, "fleet_seconds": round(outcome.seconds, 3)}))
    if outcome.ok:
        context.log.info(f"{outcome.store}: synced in {outcome.seconds:.2f} s")
    else:
        context.log.warning(f"{outcome.store}: {outcome.failed_stage} failed ({outcome.error_kind or 'error'}): "
                            f"{outcome.error}")


def fleet_job(channel: Channel) -> FleetJob:
    if channel.orders is None or channel.orders.import_store is None:
        raise ValueError(f"{channel.name} declares no store import (Orders.import_store)")
    import_store = load(channel.orders.import_store)
    client_key = channel.key
    op_name = f"{channel.name}_fleet_sync"
    pool = _import_pool(channel)

    @op(name=op_name, pool=pool, tags=pool_queue_tags(pool), required_resource_keys={"warehouse", "vault", client_key},
        description=f"Import each store of the batch from {channel.label}, then follow up its new orders; "
                    f"each store on its own (its transactions, cursor, sync log, failure).")
    def fleet_sync(context: OpExecutionContext, config: FleetSyncConfig) -> None:
        warehouse, vault = context.resources.warehouse, context.resources.vault
        client = getattr(context.resources, client_key)
        triggered_by = context.run.tags.get("dagster/sensor_name", "dagster")
        failed: list[StoreSync] = []
        for outcome in sync_fleet(config.stores, lambda store: sync_store(
                warehouse, vault, client, channel.name, store, import_store, context.run_id, triggered_by),
                store_concurrency()):
            _report(context, outcome)
            if not outcome.ok:
                failed.append(outcome)
        if failed:
            # The others are done and reported; the run fails so the failed stores stand out, and the
            # auto-sync sensor retries each alone.
            raise Failure(
                description=f"{len(failed)} of {len(config.stores)} {channel.label} stores failed: "
                            + "; ".join(f"{f.store} ({f.failed_stage}: {f.error})" for f in failed[:10]),
                metadata={"failed_stores": MetadataValue.json(sorted(f.store for f in failed)),
                          "synced_stores": len(config.stores) - len(failed)},
                allow_retries=False)

    # Its one step runs in the run's own process (no second process loading the code location: seconds of
    # CPU per run), except under the celery profile, where every step goes to the workers.
    @job(name=f"{channel.name}_fleet_sync_job", tags={RUN_KIND_TAG: FLEET_RUN_KIND, CHANNEL_TAG: channel.name},
         executor_def=None if celery_profile() else in_process_executor,
         description=f"Import and follow up a batch of due {channel.label} store accounts in one run, each "
                     f"store on its own; the auto-sync sensor launches it for routine polling.")
    def fleet_sync_job():
        fleet_sync()

    return FleetJob(channel.name, fleet_sync_job, op_name)


FLEET_JOBS: dict[str, FleetJob] = {
    name: fleet_job(c) for name, c in channels().items() if c.orders and c.orders.import_store}
