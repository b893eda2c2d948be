"""Starts each store's inbound control check at its scheduled time (ops.inbound_sheets.check_cron, in its
own time zone; 08:00 Europe/Berlin by default). A schedule per store cannot be a static Dagster schedule,
so this sensor evaluates every store's cron each minute."""
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter
from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SensorResult, SkipReason, sensor

from marketsync.assets.inbound_sheet.assets import inbound_check_job
from marketsync.assets.jtl_ffn.assets import jtl_ffn_accounts
from marketsync.resources.sql_files import query_beside
from marketsync.resources.warehouse import Warehouse
from marketsync.sensors.guard import warehouse_guard


def latest_tick(cron: str, zone: str, now: datetime) -> datetime:
    """The latest time at or before `now` that `cron` names, read in the time zone `zone` (so 08:00 stays
    08:00 local across daylight saving time)."""
    # croniter's get_prev is strictly before its start; a second later makes a tick at `now` count.
    return croniter(cron, now.astimezone(ZoneInfo(zone)) + timedelta(seconds=1)).get_prev(datetime)


def due_checks(sheets: list[tuple[str, str, str]], cursor: dict[str, str], now: datetime
               ) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """(store, tick) for every store whose latest scheduled tick has not been run yet, and the new cursor.
    Only the latest tick counts, so ticks missed while nothing ran are coalesced into one check; a store
    seen for the first time waits for its next tick."""
    due, seen = [], {}
    for store, cron, zone in sheets:
        tick = latest_tick(cron, zone, now).isoformat()
        seen[store] = tick
        if store in cursor and cursor[store] != tick:
            due.append((store, tick))
    return due, seen


@sensor(job=inbound_check_job, minimum_interval_seconds=60, default_status=DefaultSensorStatus.RUNNING,
        description="Starts each store's inbound control check at its scheduled time (`sheets set --check-cron`, "
                    "in the store's time zone); missed times are coalesced into one check.")
@warehouse_guard
def inbound_sheet_schedule_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
    """Starts each store's inbound check at its scheduled time (ops.inbound_sheets.check_cron, in its
    time zone; 08:00 Europe/Berlin by default) and keeps one partition per configured store."""
    with warehouse.begin() as conn:
        sheets = [tuple(r) for r in conn.execute(query_beside(__file__, "inbound_sheet_schedules.sql"))]
    cursor = json.loads(context.cursor) if context.cursor else {}
    due, seen = due_checks(sheets, cursor, datetime.now(UTC))
    known = set(context.instance.get_dynamic_partitions(jtl_ffn_accounts.name))
    missing = [store for store, _cron, _zone in sheets if store not in known]
    return SensorResult(
        run_requests=[RunRequest(run_key=f"inbound-check:{store}:{tick}", partition_key=store,
                                 tags={"marketsync/store": store, "marketsync/triggered_by": "schedule"})
                      for store, tick in due],
        skip_reason=None if due else SkipReason(
            f"no inbound check is due ({len(sheets)} stores with a sheet)" if sheets
            else "no store has an inbound sheet"),
        dynamic_partitions_requests=[jtl_ffn_accounts.build_add_request(missing)] if missing else [],
        cursor=json.dumps(seen, sort_keys=True),
    )
