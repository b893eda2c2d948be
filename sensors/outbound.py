"""Launches the outbound job whenever queued writes are due."""

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SensorResult, SkipReason, sensor
from sqlalchemy import text

from pipelines.jobs import outbound_job
from resources.warehouse import Warehouse


@sensor(job=outbound_job, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING)
def outbound_queue_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
    """The run_key is a fingerprint of the due items and their attempt counts: while a drain is working
    on them the fingerprint is unchanged and no second run starts; a retry that comes due is new work."""
    with warehouse.begin() as conn:
        row = conn.execute(text(
            """SELECT count(*) AS due, coalesce(max(outbound_id), 0) AS newest, coalesce(sum(attempts), 0) AS attempts
               FROM ops.outbound_queue
               WHERE (status = 'pending' AND next_attempt_at <= now())
                  OR (status = 'in_flight' AND lease_expires_at < now())""")).one()
    if row.due == 0:
        return SkipReason("nothing due in the outbound queue")
    fingerprint = f"{row.due}:{row.newest}:{row.attempts}"
    if fingerprint == context.cursor:
        return SkipReason("the due writes are already being handled")
    return SensorResult(run_requests=[RunRequest(run_key=f"outbound:{fingerprint}")], cursor=fingerprint)
