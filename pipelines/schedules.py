"""Schedules, in the merchant's time zone (Europe/Berlin)."""

from dagster import RunRequest, ScheduleEvaluationContext, SkipReason, schedule

from pipelines.accounts import list_accounts
from pipelines.jobs import STORE_TAG, letzshop_import_job, outbound_job
from resources.warehouse import Warehouse

TIMEZONE = "Europe/Berlin"


@schedule(job=letzshop_import_job, cron_schedule="15 3 * * *", execution_timezone=TIMEZONE)
def letzshop_history_schedule(context: ScheduleEvaluationContext, warehouse: Warehouse):
    """Nightly: re-read confirmed and declined shipments, so decisions made on Letzshop itself show up."""
    with warehouse.begin() as conn:
        accounts = [a for a in list_accounts(conn, channel="letzshop") if a.enabled]
    if not accounts:
        return SkipReason("no Letzshop accounts")
    day = context.scheduled_execution_time.date().isoformat()
    return [
        RunRequest(run_key=f"letzshop-history:{a.store}:{day}", partition_key=a.key, tags={STORE_TAG: a.store},
                   run_config={"ops": {"letzshop_order_import": {"config": {"states": ["confirmed", "declined"]}}}})
        for a in accounts
    ]


@schedule(job=outbound_job, cron_schedule="*/30 * * * *", execution_timezone=TIMEZONE)
def outbound_sweep_schedule(context: ScheduleEvaluationContext):
    """A safety net under the outbound sensor: drain the queue every half hour whatever happened."""
    return RunRequest(run_key=f"outbound-sweep:{context.scheduled_execution_time.isoformat()}")


schedules = [letzshop_history_schedule, outbound_sweep_schedule]
