"""What the Dagster instance knows of the runs the sensors launch: which accounts have an import or
follow-up queued or running, and how each account's latest imports ended. One query of run storage per
question and tick (not one per account), so a tick stays fast with thousands of accounts."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from pipelines.jobs import CHANNEL_TAG, ORDER_CHANNELS, PARTITION_TAG, RUN_KIND_TAG, STORE_TAG

# Statuses of a run that is waiting for or holding a slot.
ACTIVE = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
          DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
FINISHED = [DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]
FAILED = {DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}

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


def active_slots(instance: DagsterInstance) -> set[RunSlot]:
    """(kind, channel, store) of every import or follow-up run queued or running."""
    slots = set()
    for run in instance.get_runs(filters=RunsFilter(statuses=ACTIVE)):
        slot = run_slot(run.tags, run.job_name)
        if slot:
            slots.add(slot)
    return slots


@dataclass(frozen=True)
class ImportHistory:
    """How an account's latest imports ended: the failures in a row since its last success, and when the
    latest of them ended."""
    failures_in_a_row: int = 0
    last_failed_run_id: str | None = None
    last_failed_at: datetime | None = None


def import_histories(instance: DagsterInstance, since: timedelta = timedelta(days=1),
                     now: datetime | None = None, kind: str = "import") -> dict[tuple[str, str], ImportHistory]:
    """(channel, store) -> the account's recent streak of failed imports (or follow-ups, `kind`), from
    the finished runs of the last day (the backoff is capped well below that)."""
    now = now or datetime.now(timezone.utc)
    runs: dict[tuple[str, str], list] = defaultdict(list)
    jobs = [(c.import_job if kind == "import" else c.followup_job).name for c in ORDER_CHANNELS.values()]
    for record in instance.get_run_records(filters=RunsFilter(job_name=None, statuses=FINISHED,
                                                               updated_after=now - since)):
        run = record.dagster_run
        if run.job_name not in jobs:
            continue
        slot = run_slot(run.tags, run.job_name)
        if slot:
            runs[(slot[1], slot[2])].append(record)
    histories = {}
    for key, records in runs.items():
        records.sort(key=lambda r: r.create_timestamp, reverse=True)
        streak = list(_leading_failures(records))
        if streak:
            latest = streak[0]
            ended = latest.end_time or latest.update_timestamp.timestamp()
            histories[key] = ImportHistory(len(streak), latest.dagster_run.run_id,
                                           datetime.fromtimestamp(ended, timezone.utc))
    return histories


def _leading_failures(records: Iterable) -> Iterable:
    for record in records:
        if record.dagster_run.status not in FAILED:
            return
        yield record
