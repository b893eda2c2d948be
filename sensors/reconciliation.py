"""Nightly reconciliation: after 02:30 UTC, one run per enabled store account with a partition of every
channel that declares a reconciliation listing (assets/<channel>/channel.py `Orders.reconcile`), each
reconciling the UTC day before (the asset `ops/<channel>_reconciliation`, assets/operations/).

A sensor that keeps a schedule's time (the code location takes its sensors from sensors/registry.py):
the first tick after 02:30 UTC takes the accounts due that night and requests their runs, at most
MARKETSYNC_SENSOR_MAX_RUNS per tick (the cursor keeps the rest for the next ticks), so a fleet is
requested over a few ticks and a daemon that was down at 02:30 catches up when it is back. Like a
schedule, a sensor started for the first time begins with the next night, and an account added after
the night's slot waits for the next one. Run keys are deterministic (`reconcile:<channel>:<store>:<day>`),
so an account's day is requested once whatever the ticks; the run config names the day, so a run that
starts late still reconciles the day it was requested for. Runs carry the store tag, so a store's
reconciliation waits for its running import (dagster.yaml: one run per store at a time).
"""
import json
from datetime import UTC, date, datetime, time, timedelta

from dagster import (
    AssetSelection,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    define_asset_job,
    sensor,
)

from marketsync.assets.accounts import list_accounts
from marketsync.assets.channel_registry import channels, load
from marketsync.assets.operations.reconcile_assets import reconciliation_key, reconciliation_op
from marketsync.resources.warehouse import Warehouse
from marketsync.sensors.guard import warehouse_guard
from marketsync.sensors.jobs import CHANNEL_TAG, RUN_KIND_TAG, STORE_TAG
from marketsync.sensors.runs import max_runs_per_tick

NIGHTLY_AT = time(2, 30)  # UTC: the day before has ended and its last orders had time to be imported
RECONCILED = {name: c for name, c in channels().items() if c.orders and c.orders.reconcile and c.partitions}
RECONCILIATION_JOBS = {
    name: define_asset_job(f"{name}_reconciliation_job", selection=AssetSelection.assets(reconciliation_key(name)),
                           description=f"Reconcile a store's {c.label} orders of one UTC day with the warehouse "
                                       f"(yesterday unless the run config names a day).")
    for name, c in RECONCILED.items()}


def due_day(now: datetime) -> date:
    """The day the latest nightly slot reconciles: yesterday once today's 02:30 UTC has passed, else the
    day before yesterday."""
    now = now.astimezone(UTC)
    slot = now.date() if now.time() >= NIGHTLY_AT else now.date() - timedelta(days=1)
    return slot - timedelta(days=1)


def run_key(channel: str, store: str, day: date) -> str:
    return f"reconcile:{channel}:{store}:{day.isoformat()}"


def reconciliation_request(channel: str, store: str, day: date) -> RunRequest:
    """The run reconciling one account's day."""
    return RunRequest(run_key=run_key(channel, store, day), job_name=RECONCILIATION_JOBS[channel].name,
                      partition_key=store,
                      run_config={"ops": {reconciliation_op(channel): {"config": {"day": day.isoformat()}}}},
                      tags={STORE_TAG: store, CHANNEL_TAG: channel, RUN_KIND_TAG: "reconcile"})


@sensor(jobs=list(RECONCILIATION_JOBS.values()), minimum_interval_seconds=300,
        default_status=DefaultSensorStatus.RUNNING,
        description=f"Nightly after 02:30 UTC: reconciles each enabled store account's "
                    f"{', '.join(c.label for c in RECONCILED.values())} orders of the day before with the warehouse "
                    f"(one run per account; a difference opens an alert and fails the asset check).")
@warehouse_guard
def reconciliation_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
    """Requests the night's runs: the cursor holds the day last taken and the accounts still to request."""
    day = due_day(datetime.now(UTC)).isoformat()
    accounts = due_accounts(context, warehouse)  # every tick reads the warehouse: one that is down skips in words
    cursor = json.loads(context.cursor) if context.cursor else None
    if cursor is None:  # first tick ever: like a schedule, it starts with the next night
        return SensorResult(skip_reason=SkipReason(f"reconciling from the night after {day}"),
                            cursor=json.dumps({"day": day, "pending": []}))
    pending = [a for a in cursor.get("pending", []) if a in accounts]  # still enabled, still a partition
    if cursor.get("day") != day:  # a new night: every enabled account with a partition
        pending = accounts
    if not pending:
        return SensorResult(skip_reason=SkipReason(f"every account's {day} is requested"),
                            cursor=json.dumps({"day": day, "pending": []}))
    batch, rest = pending[:max_runs_per_tick()], pending[max_runs_per_tick():]
    return SensorResult(run_requests=[reconciliation_request(name, store, date.fromisoformat(day))
                                      for name, store in batch],
                        cursor=json.dumps({"day": day, "pending": rest}))


def due_accounts(context: SensorEvaluationContext, warehouse: Warehouse) -> list[list[str]]:
    """[channel, store] of every enabled account with a partition, of every reconciled channel."""
    with warehouse.begin() as conn:
        enabled = {(a.channel, a.store) for a in list_accounts(conn) if a.enabled}
    return [[name, store] for name, declaration in RECONCILED.items()
            for store in sorted(context.instance.get_dynamic_partitions(load(declaration.partitions).name))
            if (name, store) in enabled]
