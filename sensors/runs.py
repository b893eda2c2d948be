"""What the Dagster instance knows of the runs the sensors launch: which accounts have an import or
follow-up queued or running, and how each account's latest imports ended. One query of run storage per
question and tick (not one per account), so a tick stays fast with thousands of accounts."""
from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from marketsync.sensors.fleet import FLEET_JOBS, FLEET_RUN_KIND
from marketsync.sensors.jobs import CHANNEL_TAG, ORDER_CHANNELS, PARTITION_TAG, RUN_KIND_TAG, STORE_TAG

# Statuses of a run that is waiting for or holding a slot.
ACTIVE = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
          DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
FAILED = {DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}

# Runs one sensor tick may request. Dagster creates and submits each requested run inside the tick
# (about a tenth of a second each), and a tick must end within 60 s: a fleet that is all due at once
# is requested over several ticks, longest-waiting first, never all in one (`python -m benchmarks
# sensors` measures it). MARKETSYNC_SENSOR_MAX_RUNS overrides it.
DEFAULT_MAX_RUNS_PER_TICK = 60


def max_runs_per_tick() -> int:
    return max(1, int(os.environ.get("MARKETSYNC_SENSOR_MAX_RUNS") or DEFAULT_MAX_RUNS_PER_TICK))


# (run kind, channel, store)
RunSlot = tuple[str, str, str]


def _job_kinds() -> dict[str, tuple[str, str]]:
    kinds = {}
    for channel in ORDER_CHANNELS.values():
        kinds[channel.import_job.name] = ("import", channel.channel)
        kinds[channel.followup_job.name] = ("followup", channel.channel)
    return kinds


def run_slot(tags: dict[str, str], job_name: str) -> RunSlot | None:
    """(kind, channel, store) of an order import or follow-up run, from its tags, or from its job and
    partition when launched by hand (the UI, the CLI)."""
    job = _job_kinds().get(job_name)
    kind = tags.get(RUN_KIND_TAG) or (job[0] if job else None)
    channel = tags.get(CHANNEL_TAG) or (job[1] if job else None)
    store = tags.get(STORE_TAG) or tags.get(PARTITION_TAG)
    if kind and channel and store:
        return kind, channel, store
    return None


def fleet_stores(run) -> tuple[str, list[str]] | None:
    """(channel, stores) of a fleet sync run (sensors/fleet.py), from its job and run config."""
    for fleet in FLEET_JOBS.values():
        if run.job_name == fleet.job.name:
            return fleet.channel, fleet.stores_of(run.run_config)
    return None


def active_slots(instance: DagsterInstance) -> set[RunSlot]:
    """(kind, channel, store) of every import or follow-up run queued or running; a fleet sync run
    imports (and follows up) each store of its batch."""
    slots = set()
    for run in instance.get_runs(filters=RunsFilter(statuses=ACTIVE)):
        fleet = fleet_stores(run)
        if fleet:
            slots.update(("import", fleet[0], store) for store in fleet[1])
            continue
        slot = run_slot(run.tags, run.job_name)
        if slot:
            slots.add(slot)
    return slots


@dataclass(frozen=True)
class ImportHistory:
    """How an account's latest imports (or follow-ups) ended: the failures in a row, and when the latest
    of them ended."""
    failures_in_a_row: int = 0
    last_failed_run_id: str | None = None
    last_failed_at: datetime | None = None


# Failures older than this change nothing: the backoff reaches its 30-minute cap after four failures.
RECENT = timedelta(hours=3)


@dataclass(frozen=True)
class FailedRun:
    """A failed or canceled run of an account: when it ended, and the moment after which a success of the
    account means the run's failure is over (its end; a fleet run's start, since the run goes on after a
    store it synced)."""
    account: tuple[str, str]  # (channel, store)
    run_id: str
    ended: datetime
    superseded_after: datetime


def _ended(record) -> datetime:
    ended = datetime.fromtimestamp(record.end_time, UTC) if record.end_time else record.update_timestamp
    return ended if ended.tzinfo else ended.replace(tzinfo=UTC)


def failed_runs(instance: DagsterInstance, since: timedelta = RECENT, now: datetime | None = None,
                kind: str = "import") -> list[FailedRun]:
    """The accounts' failed or canceled imports (or follow-ups, `kind`) of the last hours. A failed fleet
    sync run is a failed import of each store of its batch (the run fails when any store failed, or when
    it was killed before reaching all). Only failed runs are read, so the query stays small however many
    runs succeed."""
    after = (now or datetime.now(UTC)) - since
    failures = []
    for record in instance.get_run_records(filters=RunsFilter(statuses=list(FAILED), tags={RUN_KIND_TAG: kind},
                                                              updated_after=after)):
        slot = run_slot(record.dagster_run.tags, record.dagster_run.job_name)
        if slot:
            ended = _ended(record)
            failures.append(FailedRun((slot[1], slot[2]), record.dagster_run.run_id, ended, ended))
    if kind == "import":
        for record in instance.get_run_records(filters=RunsFilter(
                statuses=list(FAILED), updated_after=after, tags={RUN_KIND_TAG: FLEET_RUN_KIND})):
            fleet = fleet_stores(record.dagster_run)
            if not fleet:
                continue
            started = datetime.fromtimestamp(record.start_time or record.create_timestamp.timestamp(), UTC)
            failures.extend(FailedRun((fleet[0], store), record.dagster_run.run_id, _ended(record), started)
                            for store in fleet[1])
    return failures


def streaks(failures: list[FailedRun], succeeded_at: dict[tuple[str, str], datetime | None] | None = None,
            ) -> dict[tuple[str, str], ImportHistory]:
    """(channel, store) -> the account's streak: its failures after its last success (`succeeded_at`, e.g.
    the account's last_synced_at; without it every failure counts)."""
    succeeded_at = succeeded_at or {}
    failed: dict[tuple[str, str], list[tuple[datetime, str]]] = defaultdict(list)
    for failure in failures:
        last_success = succeeded_at.get(failure.account)
        if last_success is None or last_success < failure.superseded_after:
            failed[failure.account].append((failure.ended, failure.run_id))
    histories = {}
    for key, runs in failed.items():
        runs.sort(reverse=True)
        histories[key] = ImportHistory(len(runs), runs[0][1], runs[0][0])
    return histories


def import_histories(instance: DagsterInstance, since: timedelta = RECENT, now: datetime | None = None,
                     kind: str = "import", succeeded_at: dict[tuple[str, str], datetime | None] | None = None,
                     ) -> dict[tuple[str, str], ImportHistory]:
    """(channel, store) -> the account's streak of failed imports (or follow-ups, `kind`) of the last
    hours that ended after its last success (`succeeded_at`)."""
    return streaks(failed_runs(instance, since, now, kind), succeeded_at)
