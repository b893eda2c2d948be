"""Launches `apply_inbox_job` when pushed feed batches wait in ops.feed_inbox."""
import time

from dagster import (
    DefaultSensorStatus,
    RunConfig,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from marketsync.assets.feeds.push_inbox import ApplyInboxConfig, apply_inbox_job
from marketsync.resources.sql_files import query_beside
from marketsync.resources.warehouse import Warehouse
from marketsync.sensors.guard import warehouse_guard

# A batch still pending this long after a run was launched for it: that run failed; launch another.
STUCK_AFTER_MINUTES = 10


def _run_request(run_key: str, up_to: int, pending: int) -> RunRequest:
    return RunRequest(run_key=run_key,
                      run_config=RunConfig(ops={"apply_feed_inbox": ApplyInboxConfig(up_to_inbox_id=up_to)}),
                      tags={"marketsync/feed_inbox_pending": str(pending)})


@sensor(job=apply_inbox_job, minimum_interval_seconds=15, default_status=DefaultSensorStatus.RUNNING,
        description="Applies the supplier feed batches pushed to the intake (ops.feed_inbox) to the catalog; "
                    "a batch still pending 10 minutes after its run started gets another run.")
@warehouse_guard
def feed_inbox_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
    """The cursor is the highest inbox id already handed to a run; the run_key names the highest pending
    id, so a re-evaluated tick never launches the same batches twice. The run applies every pending
    batch up to that id, older leftovers included."""
    handed_on = int(context.cursor or 0)
    with warehouse.begin() as conn:
        row = conn.execute(query_beside(__file__, "feed_inbox_pending.sql"), {"stuck": STUCK_AFTER_MINUTES}).one()
    if row.pending == 0:
        return SkipReason("no pushed batches waiting")
    if row.newest > handed_on:
        return SensorResult(run_requests=[_run_request(f"feed-inbox:{row.newest}", row.newest, row.pending)],
                            cursor=str(row.newest))
    if row.stuck:
        # One retry per stuck period: the window number makes the run_key new once per period.
        window = int(time.time() // (STUCK_AFTER_MINUTES * 60))
        return SensorResult(run_requests=[_run_request(f"feed-inbox:{row.newest}:retry-{window}", row.newest,
                                                       row.pending)], cursor=str(handed_on))
    return SkipReason(f"{row.pending} batches up to inbox id {row.newest} are already handed to a run")
