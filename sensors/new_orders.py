"""Fires on new orders of every channel: requests the follow-up (matching, then the auto-confirm rule)
for each store account that has orders not followed up yet.

What is new is read from the data, not from a cursor: core.orders.followed_up_at stays empty until the
account's follow-up run has handled the order, so an order is followed up whatever the commit order of
concurrent imports, and a failed follow-up leaves its orders to be asked for again.

- About one follow-up per import batch: nothing is requested while the account's import (or a
  follow-up) is queued or running; the import's orders are followed up together once it ends.
- One account's state never stops another's: an account whose partition is gone (disabled, deleted,
  not configured) is skipped, with the reason in the tick's skip message.
"""

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SensorResult, SkipReason, sensor

from marketsync.assets.orders import followup as followup_stages
from marketsync.resources.sql_files import query_beside
from marketsync.resources.warehouse import Warehouse
from marketsync.sensors.auto_sync import retry_due_at, utcnow
from marketsync.sensors.guard import warehouse_guard
from marketsync.sensors.jobs import ORDER_CHANNELS
from marketsync.sensors.runs import active_slots, import_histories, max_runs_per_tick


@sensor(jobs=[c.followup_job for c in ORDER_CHANNELS.values()], minimum_interval_seconds=30,
        default_status=DefaultSensorStatus.RUNNING,
        description="Requests matching and the auto-confirm rule for each store account with orders not "
                    "followed up yet, once its import has ended; every order channel.")
@warehouse_guard
def new_orders_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
    """Run keys name the account and its batch (the newest order waiting and how many wait), plus the
    failed follow-up being retried, so a re-evaluated tick never requests the same follow-up twice."""
    with warehouse.begin() as conn:
        rows = conn.execute(query_beside(followup_stages.__file__, "awaiting_followup.sql"),
                            {"channels": list(ORDER_CHANNELS)}).all()
    if not rows:
        return SkipReason("no order waits for its follow-up")
    now = utcnow()
    partitions = {name: set(context.instance.get_dynamic_partitions(c.partitions.name))
                  for name, c in ORDER_CHANNELS.items()}
    active = active_slots(context.instance)
    failed = import_histories(context.instance, now=now, kind="followup")
    requests, skipped, waiting, deferred = [], [], 0, 0
    for row in rows:
        channel = ORDER_CHANNELS[row.channel]
        if not row.enabled or row.store not in partitions[row.channel]:
            skipped.append(f"{row.store}/{row.channel}")
            continue
        if {("import", row.channel, row.store), ("followup", row.channel, row.store)} & active:
            waiting += 1  # its batch is still landing (or being followed up): one follow-up once it ends
            continue
        if len(requests) >= max_runs_per_tick():
            deferred += 1  # still waiting, so the next tick asks for it (rows come longest waiting first)
            continue
        run_key = f"followup:{row.channel}:{row.store}:{row.newest}:{row.waiting}"
        history = failed.get((row.channel, row.store))
        if history is not None:
            retry_at = retry_due_at(history)
            if retry_at is not None and now < retry_at:
                waiting += 1
                continue
            run_key += f":retry:{history.last_failed_run_id}"
        requests.append(RunRequest(run_key=run_key, job_name=channel.followup_job.name, partition_key=row.store,
                                   tags={**channel.tags(row.store, "followup"),
                                         "marketsync/new_orders": str(row.waiting)}))
    if skipped:
        context.log.info(f"orders of {len(skipped)} accounts without a partition (disabled, removed or not "
                         f"configured) are not followed up: {', '.join(skipped[:20])}")
    if deferred:
        context.log.info(f"{deferred} more accounts with new orders wait for the next tick "
                         f"(at most {max_runs_per_tick()} runs per tick)")
    reason = None
    if not requests:
        reason = (f"{len(rows)} accounts have orders waiting: {waiting} still importing or retrying later, "
                  f"{len(skipped)} without a partition (disabled, removed or not configured"
                  + (f": {', '.join(skipped[:5])}" if skipped else "") + ")")
    return SensorResult(run_requests=requests, skip_reason=SkipReason(reason) if reason else None)
