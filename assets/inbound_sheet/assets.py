"""The inbound control sheet as Dagster assets, one partition per store: the sheet's rows as last read
(raw/inbound_sheet_rows, for analysts) and the check that wrote each row's status back
(ops/inbound_control_check). Run daily by `inbound_sheet_schedule_sensor` at each store's own time,
by `marketsync sheets check STORE`, or from the launchpad."""
import json
from datetime import datetime, timezone

from dagster import (AssetExecutionContext, AssetKey, AssetSpec, Backoff, DefaultSensorStatus,
                     MaterializeResult, RetryPolicy, RunRequest, SensorEvaluationContext,
                     SensorResult, define_asset_job, multi_asset, sensor)
from dagster._utils.schedules import reverse_cron_string_iterator
from sqlalchemy import text

from assets.inbound_sheet.run import run_check
from assets.jtl_ffn.assets import INBOUNDS, STOCK, jtl_ffn_accounts
from resources.google_sheets import GoogleSheetsResource
from resources.warehouse import Warehouse

SHEET_ROWS = AssetKey(["raw", "inbound_sheet_rows"])
CHECK = AssetKey(["ops", "inbound_control_check"])


@multi_asset(
    specs=[
        AssetSpec(SHEET_ROWS, description="The store's inbound control sheet as last read, one row per sheet row.",
                  kinds={"googlesheets", "postgres"}, owners=["team:operations"], group_name="fulfillment"),
        AssetSpec(CHECK, deps=[SHEET_ROWS, STOCK, INBOUNDS],
                  description="Each sheet row's expected units against what JTL-FFN received, written back as "
                              "MATCH / MISMATCH (or why the row cannot be checked) in one batch update.",
                  kinds={"googlesheets", "postgres"}, owners=["team:operations"], group_name="fulfillment"),
    ],
    # Checked per store with an FFN account: the same partitions as the warehouse's assets it reads.
    partitions_def=jtl_ffn_accounts,
    pool="google_sheets_api",
    retry_policy=RetryPolicy(max_retries=2, delay=30, backoff=Backoff.EXPONENTIAL),
)
def inbound_control_check(context: AssetExecutionContext, warehouse: Warehouse, google_sheets: GoogleSheetsResource):
    summary = run_check(warehouse, google_sheets, context.partition_key, context.run_id)
    yield MaterializeResult(asset_key=SHEET_ROWS, metadata={"rows_read": summary.rows_checked})
    yield MaterializeResult(asset_key=CHECK, metadata={
        "rows_checked": summary.rows_checked, "matched": summary.matched, "mismatched": summary.mismatched,
        "problems": summary.problems, "cells_written": summary.cells_written})


inbound_check_job = define_asset_job("inbound_check_job", selection=[SHEET_ROWS, CHECK],
                                     partitions_def=jtl_ffn_accounts)


def due_checks(sheets: list[tuple[str, str, str]], cursor: dict[str, str], now: datetime
               ) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """(store, tick) for every store whose latest scheduled tick has not been run yet, and the new cursor.
    Only the latest tick counts, so ticks missed while nothing ran are coalesced into one check; a store
    seen for the first time waits for its next tick."""
    due, seen = [], {}
    for store, cron, zone in sheets:
        tick = next(reverse_cron_string_iterator(now.timestamp(), cron, zone)).isoformat()
        seen[store] = tick
        if store in cursor and cursor[store] != tick:
            due.append((store, tick))
    return due, seen


@sensor(job=inbound_check_job, minimum_interval_seconds=60, default_status=DefaultSensorStatus.RUNNING)
def inbound_sheet_schedule_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
    """Starts each store's inbound check at its scheduled time (ops.inbound_sheets.check_cron, in its
    time zone; 08:00 Europe/Berlin by default) and keeps one partition per configured store."""
    with warehouse.begin() as conn:
        sheets = [tuple(r) for r in conn.execute(text(
            "SELECT s.code, i.check_cron, i.check_timezone FROM ops.inbound_sheets i JOIN ops.stores s USING (store_id) "
            "WHERE i.enabled ORDER BY s.code"))]
    cursor = json.loads(context.cursor) if context.cursor else {}
    due, seen = due_checks(sheets, cursor, datetime.now(timezone.utc))
    known = set(context.instance.get_dynamic_partitions(jtl_ffn_accounts.name))
    missing = [store for store, _cron, _zone in sheets if store not in known]
    return SensorResult(
        run_requests=[RunRequest(run_key=f"inbound-check:{store}:{tick}", partition_key=store,
                                 tags={"marketsync/store": store, "marketsync/triggered_by": "schedule"})
                      for store, tick in due],
        dynamic_partitions_requests=[jtl_ffn_accounts.build_add_request(missing)] if missing else [],
        cursor=json.dumps(seen, sort_keys=True),
    )


inbound_sheet_assets = [inbound_control_check]
