"""Turns failed runs into alerts in ops.alerts, where the CLI (`marketsync logs`) and on-call look."""

from dagster import DefaultSensorStatus, RunFailureSensorContext, run_failure_sensor
from sqlalchemy import text

from resources.warehouse import Warehouse


@run_failure_sensor(default_status=DefaultSensorStatus.RUNNING, monitor_all_code_locations=False)
def run_failure_alert_sensor(context: RunFailureSensorContext, warehouse: Warehouse):
    """Records the failed run's job and its failure message (which never carries secrets: every error
    we raise is worded for people and credential values are kept out of them)."""
    message = (context.failure_event.message or "run failed")[:2000]
    with warehouse.begin() as conn:
        conn.execute(text("""INSERT INTO ops.alerts (source, run_id, job_name, message)
                             VALUES ('run_failure', :r, :j, :m)"""),
                     {"r": context.dagster_run.run_id, "j": context.dagster_run.job_name, "m": message})
    context.log.error(f"run {context.dagster_run.run_id} of {context.dagster_run.job_name} failed: {message}")
