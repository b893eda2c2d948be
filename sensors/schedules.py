"""Schedules, in the merchant's time zone (Europe/Berlin)."""

from dagster import DefaultScheduleStatus, RunRequest, ScheduleEvaluationContext, SkipReason, schedule

from marketsync.assets.accounts import list_accounts
from marketsync.assets.codeswholesale.balance import codeswholesale_balance_job
from marketsync.assets.codeswholesale.catalog import codeswholesale_accounts
from marketsync.resources.warehouse import Warehouse
from marketsync.sensors.guard import warehouse_guard
from marketsync.sensors.jobs import ORDER_CHANNELS, letzshop_import_job, outbound_job
from marketsync.sensors.outbound import drain_requests

TIMEZONE = "Europe/Berlin"


@schedule(job=letzshop_import_job, cron_schedule="15 3 * * *", execution_timezone=TIMEZONE,
          default_status=DefaultScheduleStatus.RUNNING,
          description="Nightly: re-read each store's confirmed and declined Letzshop shipments, so decisions "
                      "made on Letzshop itself show up.")
@warehouse_guard
def letzshop_history_schedule(context: ScheduleEvaluationContext, warehouse: Warehouse):
    """One run per enabled Letzshop account that has a partition (is configured)."""
    channel = ORDER_CHANNELS["letzshop"]
    with warehouse.begin() as conn:
        accounts = [a for a in list_accounts(conn, channel="letzshop") if a.enabled]
    partitions = set(context.instance.get_dynamic_partitions(channel.partitions.name))
    accounts = [a for a in accounts if a.key in partitions]
    if not accounts:
        return SkipReason("no enabled and configured Letzshop account")
    day = context.scheduled_execution_time.date().isoformat()
    return [
        RunRequest(run_key=f"letzshop-history:{a.store}:{day}", partition_key=a.key,
                   tags=channel.tags(a.store, "import"),
                   run_config={"ops": {"letzshop_order_import": {"config": {"states": ["confirmed", "declined"]}}}})
        for a in accounts
    ]


@schedule(job=outbound_job, cron_schedule="*/30 * * * *", execution_timezone=TIMEZONE,
          default_status=DefaultScheduleStatus.RUNNING,
          description="A safety net under the outbound sensor: every half hour, a drain for each account with "
                      "writes due that has no drain queued or running.")
@warehouse_guard
def outbound_sweep_schedule(context: ScheduleEvaluationContext, warehouse: Warehouse):
    requests, left = drain_requests(context, warehouse,
                                    f"outbound-sweep:{context.scheduled_execution_time.isoformat()}")
    if not requests:
        return SkipReason("nothing due in the outbound queue" if not left else
                          f"{left} accounts with writes due already have a drain queued or running")
    return requests


@schedule(job=codeswholesale_balance_job, cron_schedule="5 * * * *", execution_timezone=TIMEZONE,
          default_status=DefaultScheduleStatus.RUNNING,
          description="Hourly: read each store's CodesWholesale balance; an alert while it is below the "
                      "store's threshold or short of what waiting purchases need.")
def codeswholesale_balance_schedule(context: ScheduleEvaluationContext):
    """One run per store with a CodesWholesale source (a partition of codeswholesale_accounts)."""
    stores = sorted(context.instance.get_dynamic_partitions(codeswholesale_accounts.name))
    if not stores:
        return SkipReason("no store has a CodesWholesale source")
    hour = context.scheduled_execution_time.isoformat()
    return [RunRequest(run_key=f"codeswholesale-balance:{store}:{hour}", partition_key=store,
                       tags={"marketsync/store": store, "marketsync/triggered_by": "schedule"}) for store in stores]


schedules = [letzshop_history_schedule, outbound_sweep_schedule, codeswholesale_balance_schedule]
