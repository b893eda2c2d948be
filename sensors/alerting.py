"""Alerts that reach people: every minute, the metrics are measured against each store's thresholds
(a crossed one keeps an alert open, one back within closes it) and the notices due are queued to the
stores' routes (opened, escalated, resolved; damped). The queued notices go out through the outbound
queue's drains like every other write (sensors/outbound.py); a failed run, a dead-lettered write or a
revoked credential is an alert like any other, so it reaches the same routes.

The work is a few statements whatever the number of stores (no run is launched for it); the asset
`ops/integration_metrics` (scheduled every quarter of an hour) shows the same readings in the UI.
"""
from dagster import (
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    schedule,
    sensor,
)

from marketsync.assets.alerts.notices import queue_due_notices
from marketsync.assets.operations.assets import integration_metrics_job
from marketsync.assets.operations.evaluate import evaluate_thresholds
from marketsync.resources.warehouse import Warehouse
from marketsync.sensors.guard import warehouse_guard
from marketsync.sensors.schedules import TIMEZONE


@sensor(minimum_interval_seconds=60, default_status=DefaultSensorStatus.RUNNING,
        description="Every minute: threshold alerts opened and closed from the metrics, and the alert notices "
                    "due (opened, escalated, resolved; damped) queued to each store's e-mail and webhook routes.")
@warehouse_guard
def alerting_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
    with warehouse.begin() as conn:
        evaluation = evaluate_thresholds(conn)
        notices = queue_due_notices(conn, triggered_by="alerting_sensor")
    summary = f"{evaluation.describe()}; {notices.describe()}"
    context.log.info(summary)
    return SkipReason(summary)


@schedule(job=integration_metrics_job, cron_schedule="*/15 * * * *", execution_timezone=TIMEZONE,
          default_status=DefaultScheduleStatus.RUNNING,
          description="Every quarter of an hour: the operations metrics as an asset, with a check per metric.")
def integration_metrics_schedule(context: ScheduleEvaluationContext):
    return RunRequest(run_key=f"integration-metrics:{context.scheduled_execution_time.isoformat()}")
