"""The daily retention run: buyers' personal data past each store's retention period removed."""
from dagster import DefaultScheduleStatus, RunRequest, ScheduleEvaluationContext, schedule

from marketsync.assets.privacy.assets import personal_data_retention_job
from marketsync.sensors.schedules import TIMEZONE


@schedule(job=personal_data_retention_job, cron_schedule="30 3 * * *", execution_timezone=TIMEZONE,
          default_status=DefaultScheduleStatus.RUNNING,
          description="Every night at 03:30: buyers' personal data past each store's retention period removed.")
def personal_data_retention_schedule(context: ScheduleEvaluationContext):
    return RunRequest(run_key=f"personal-data-retention:{context.scheduled_execution_time.isoformat()}")
