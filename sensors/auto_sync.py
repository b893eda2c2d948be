"""Imports every order channel's accounts (Letzshop, Amazon, eBay, ...) on their own interval
(ops.accounts.sync_interval_minutes, 5-1440, default 15): one mechanism for every channel.

- At most one import per account is queued or running: an account with one is left alone, however
  slow the run queue.
- A failed or killed import is retried within minutes, with a bounded backoff from the end of the last
  failed run (2, 4, 8, 16, then every 30 minutes), not at the next interval slot. Its alert is raised
  once per failure streak by the run-failure sensor.
- Only accounts with a partition are imported: the partitions sensor (sensors/partitions.py) keeps one
  for each enabled and configured account.
- A fleet costs a run per batch, not per store: when many accounts of a channel are due at once, their
  routine imports go into fleet sync runs of up to MARKETSYNC_FLEET_BATCH stores (sensors/fleet.py),
  each store still on its own inside. A retry always runs alone, as the store's own import run.
"""

import hashlib
import json
import os
from datetime import UTC, datetime, timedelta

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SensorResult, SkipReason, sensor

from marketsync.assets.accounts import Account, list_due_accounts
from marketsync.resources.warehouse import Warehouse
from marketsync.sensors.fleet import FLEET_JOBS, FLEET_RUN_KIND
from marketsync.sensors.guard import warehouse_guard
from marketsync.sensors.jobs import CHANNEL_TAG, ORDER_CHANNELS, RUN_KIND_TAG
from marketsync.sensors.runs import ImportHistory, active_slots, failed_runs, max_runs_per_tick, streaks

# The wait after the first failure in a row, doubling after each further one up to MAX_RETRY_WAIT.
# MARKETSYNC_IMPORT_FIRST_RETRY_SECONDS overrides it (a store whose API is often briefly away may want
# longer; the daemon tests want seconds).
FIRST_RETRY = timedelta(minutes=2)
MAX_RETRY_WAIT = timedelta(minutes=30)


# Routine imports of a channel are batched into fleet runs (sensors/fleet.py) once this many of its stores
# are due at once, this many stores per run at most. MARKETSYNC_FLEET_MIN_STORES and
# MARKETSYNC_FLEET_BATCH override them; a batch size of 0 or 1 turns fleets off (a run per store).
FLEET_MIN_STORES = 5
FLEET_BATCH = 50
FLEET_SIZE_TAG = "marketsync/fleet_size"


def fleet_min_stores() -> int:
    return max(1, int(os.environ.get("MARKETSYNC_FLEET_MIN_STORES") or FLEET_MIN_STORES))


def fleet_batch_size() -> int:
    value = os.environ.get("MARKETSYNC_FLEET_BATCH")
    return max(0, int(value)) if value not in (None, "") else FLEET_BATCH


def first_retry() -> timedelta:
    seconds = os.environ.get("MARKETSYNC_IMPORT_FIRST_RETRY_SECONDS")
    return timedelta(seconds=max(1.0, float(seconds))) if seconds else FIRST_RETRY


def utcnow() -> datetime:
    return datetime.now(UTC)


PUSHED_INTERVAL_MINUTES = 24 * 60  # a channel that pushes its orders is caught up once a day


def due_slot(account: Account, now: datetime, interval_minutes: int | None = None) -> int | None:
    """The interval slot an import is due for, or None when the last sync is recent enough.

    Slots number the account's intervals (its sync interval, unless `interval_minutes` says otherwise)
    since the epoch, so the run_key is the same whichever sensor tick notices it: one run per account
    and interval, however often the sensor runs."""
    interval = (interval_minutes or account.sync_interval_minutes) * 60
    if account.last_synced_at and (now - account.last_synced_at).total_seconds() < interval:
        return None
    return int(now.timestamp() // interval)


def retry_wait(failures_in_a_row: int) -> timedelta:
    """How long after the n-th failure in a row the import is tried again: 2, 4, 8, 16, 30, 30 ... min."""
    return min(first_retry() * 2 ** max(0, failures_in_a_row - 1), MAX_RETRY_WAIT)


def retry_due_at(history: ImportHistory) -> datetime | None:
    if not history.failures_in_a_row or history.last_failed_at is None:
        return None
    return history.last_failed_at + retry_wait(history.failures_in_a_row)


@sensor(jobs=[*(c.import_job for c in ORDER_CHANNELS.values()), *(f.job for f in FLEET_JOBS.values())],
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description="Imports each store account of every order channel when its sync interval has elapsed; "
                    "one queued-or-running import per account; failed imports retried with backoff.")
@warehouse_guard
def order_auto_sync_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
    """Requests an import for each due account. Run keys name the account and either its interval slot
    or the failed run being retried, so a re-evaluated tick never requests the same import twice."""
    now = utcnow()
    # Only what is due is read (interval elapsed, or a recent failure to retry), so a tick's cost follows
    # the due accounts, not the idle ones.
    failures = failed_runs(context.instance, now=now)
    with warehouse.begin() as conn:
        accounts = list_due_accounts(conn, list(ORDER_CHANNELS), now, named=sorted({f.account for f in failures}),
                                     pushed=[name for name, c in ORDER_CHANNELS.items() if c.pushed],
                                     pushed_minutes=PUSHED_INTERVAL_MINUTES)
    if not accounts:
        return SensorResult(skip_reason=SkipReason("no enabled order channel account is due"), cursor=context.cursor)
    partitions = {name: set(context.instance.get_dynamic_partitions(ORDER_CHANNELS[name].partitions.name))
                  for name in {a.channel for a in accounts}}
    active = active_slots(context.instance)
    histories = streaks(failures, {(a.channel, a.store): a.last_synced_at for a in accounts})
    cursor = json.loads(context.cursor) if context.cursor else {}
    due: list[Due] = []
    waiting = {"running": 0, "backing_off": 0, "no_partition": 0}
    for account in accounts:
        channel = ORDER_CHANNELS[account.channel]
        name = f"{account.channel}:{account.store}"
        if account.store not in partitions[account.channel]:
            waiting["no_partition"] += 1  # not configured yet: the partitions sensor decides
            continue
        if ("import", account.channel, account.store) in active:
            waiting["running"] += 1
            continue
        history = histories.get((account.channel, account.store), ImportHistory())
        retry_at = retry_due_at(history)
        if retry_at is not None:
            if now < retry_at:
                waiting["backing_off"] += 1
                continue
            slot, run_key = None, f"{account.channel}-sync:{account.store}:retry:{history.last_failed_run_id}"
        else:
            slot = due_slot(account, now, PUSHED_INTERVAL_MINUTES if channel.pushed else None)
            if slot is None or cursor.get(name) == slot:
                continue
            run_key = f"{account.channel}-sync:{account.store}:{slot}"
        due.append((account, slot, RunRequest(run_key=run_key, job_name=channel.import_job.name,
                                              partition_key=account.store,
                                              tags=channel.tags(account.store, "import"))))
    # Longest without a sync first; what does not fit in this tick stays due (its slot is not written
    # to the cursor) and is requested by the next one.
    due.sort(key=lambda d: (d[0].last_synced_at is not None, d[0].last_synced_at or now))
    requests, requested = [], []
    for batch in batched(due):
        if len(requests) >= max_runs_per_tick():
            break
        requests.append(batch[0][2] if len(batch) == 1 else fleet_request(batch))
        requested.extend(batch)
    for account, slot, _request in requested:
        if slot is not None:
            cursor[f"{account.channel}:{account.store}"] = slot
    if len(due) > len(requested):
        context.log.info(f"{len(due) - len(requested)} more due imports wait for the next tick "
                         f"(at most {max_runs_per_tick()} runs per tick)")
    if not requests:
        return SensorResult(skip_reason=SkipReason(
            f"no import due of {len(accounts)} accounts past their interval or failing "
            f"({waiting['running']} queued or running, "
            f"{waiting['backing_off']} waiting to retry a failed import, {waiting['no_partition']} not "
            f"configured)"), cursor=json.dumps(cursor, sort_keys=True))
    return SensorResult(run_requests=requests, cursor=json.dumps(cursor, sort_keys=True))


Due = tuple[Account, int | None, RunRequest]  # the account, its interval slot (None: a retry), its own run


def batched(due: list[Due]) -> list[list[Due]]:
    """The due imports as runs, in the order given: a retry, a channel without a fleet job, or a channel
    with fewer than MARKETSYNC_FLEET_MIN_STORES stores due gets a run per store (its own import job); the
    routine imports of a channel with more are batched, MARKETSYNC_FLEET_BATCH stores per fleet run."""
    size, least = fleet_batch_size(), fleet_min_stores()
    routine: dict[str, list[Due]] = {}
    for item in due:
        if item[1] is not None and item[0].channel in FLEET_JOBS:
            routine.setdefault(item[0].channel, []).append(item)
    fleets = {channel for channel, items in routine.items() if size > 1 and len(items) >= least}
    runs: list[list[Due]] = []
    open_batch: dict[str, list[Due]] = {}
    for item in due:
        channel = item[0].channel
        if item[1] is None or channel not in fleets:
            runs.append([item])
            continue
        batch = open_batch.get(channel)
        if batch is None or len(batch) >= size:
            batch = open_batch[channel] = []
            runs.append(batch)
        batch.append(item)
    return runs


def fleet_request(batch: list[Due]) -> RunRequest:
    """One fleet sync run for a batch of one channel's due accounts. The run key names the batch (its
    accounts and their slots), so a re-evaluated tick never requests it twice."""
    channel = batch[0][0].channel
    fleet = FLEET_JOBS[channel]
    stores = [account.store for account, _slot, _request in batch]
    digest = hashlib.sha256(json.dumps(sorted((a.store, slot) for a, slot, _ in batch)).encode()).hexdigest()[:20]
    return RunRequest(run_key=f"{channel}-fleet:{digest}", job_name=fleet.job.name, run_config=fleet.run_config(stores),
                      tags={RUN_KIND_TAG: FLEET_RUN_KIND, CHANNEL_TAG: channel, FLEET_SIZE_TAG: str(len(stores))})
