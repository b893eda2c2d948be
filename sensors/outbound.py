"""Launches a drain of the outbound queue for each channel account with writes due: one run per account
(tag marketsync/outbound_account, limited to one at a time in dagster.yaml), never a second while one is
queued or running for it, and none when nothing is due. Within the run only the channel with due
writes takes its API pool (sensors/jobs.py), so an idle drain never holds an import's slot."""

from dagster import (
    DagsterInstance,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from marketsync.assets import outbound_runner
from marketsync.resources.sql_files import query_beside
from marketsync.resources.warehouse import Warehouse
from marketsync.sensors.guard import warehouse_guard
from marketsync.sensors.jobs import CHANNEL_TAG, OUTBOUND_ACCOUNT_TAG, outbound_job
from marketsync.sensors.runs import ACTIVE, max_runs_per_tick

EVERY_ACCOUNT = "*"


def active_drains(instance: DagsterInstance) -> set[str]:
    """The accounts (ids as text) with a drain queued or running; EVERY_ACCOUNT for a drain of all."""
    return {run.tags.get(OUTBOUND_ACCOUNT_TAG) or EVERY_ACCOUNT
            for run in instance.get_runs(filters=RunsFilter(job_name=outbound_job.name, statuses=ACTIVE))}


def drain_requests(context, warehouse: Warehouse, prefix: str) -> tuple[list[RunRequest], int]:
    """A drain run per account with due writes and no drain of its own queued or running, at most
    max_runs_per_tick of them; and how many accounts were left to a drain under way or to the next
    tick. `context` is a sensor's or a schedule's: its instance is read only once the warehouse has
    answered."""
    with warehouse.begin() as conn:
        rows = conn.execute(query_beside(outbound_runner.__file__, "due_outbound_fingerprints.sql")).all()
    if not rows:
        return [], 0
    busy = active_drains(context.instance)
    requests, left = [], 0
    for row in rows:
        if EVERY_ACCOUNT in busy or str(row.account_id) in busy or len(requests) >= max_runs_per_tick():
            left += 1  # its drain under way, or the tick full: still due, so a later tick asks again
            continue
        requests.append(RunRequest(
            run_key=f"{prefix}:{row.account_id}:{row.due}:{row.newest}:{row.attempts}",
            tags={OUTBOUND_ACCOUNT_TAG: str(row.account_id), "marketsync/outbound_store": row.store,
                  CHANNEL_TAG: row.channel, "marketsync/outbound_due": str(row.due)}))
    return requests, left


@sensor(job=outbound_job, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING,
        description="Requests one drain of the outbound queue per channel account with writes due, never a "
                    "second while one is queued or running for the account.")
@warehouse_guard
def outbound_queue_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
    """Run keys are the account and a fingerprint of its due writes and their attempt counts: while a
    drain works on them the fingerprint is unchanged; a retry that comes due is new work."""
    requests, left = drain_requests(context, warehouse, "outbound")
    if not requests:
        return SkipReason("nothing due in the outbound queue" if not left else
                          f"{left} accounts with writes due already have a drain queued or running")
    if left:
        context.log.info(f"{left} more accounts with writes due: a drain under way, or the next tick")
    return SensorResult(run_requests=requests)
