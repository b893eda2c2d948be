"""The inbound control sheet as Dagster assets, one partition per store: the sheet's rows as last read
(raw/inbound_sheet_rows, for analysts) and the check that wrote each row's status back
(ops/inbound_control_check). Run daily by `sensors.inbound_sheet_schedule` at each store's own time,
by `marketsync sheets check STORE`, or from the launchpad."""
from datetime import timedelta

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Backoff,
    FreshnessPolicy,
    MaterializeResult,
    RetryPolicy,
    define_asset_job,
    multi_asset,
)

from marketsync.assets.inbound_sheet.run import run_check
from marketsync.assets.jtl_ffn.assets import INBOUNDS, STOCK, jtl_ffn_accounts
from marketsync.assets.table_metadata import stored_in, with_table_metadata
from marketsync.resources.celery_queues import pool_queue_tags
from marketsync.resources.google_sheets import GoogleSheetsResource
from marketsync.resources.warehouse import Warehouse

SHEET_ROWS = AssetKey(["raw", "inbound_sheet_rows"])
CHECK = AssetKey(["ops", "inbound_control_check"])
# Checked daily at each store's time: a missed day warns, two fail.
_DAILY = FreshnessPolicy.time_window(fail_window=timedelta(hours=49), warn_window=timedelta(hours=25))


@multi_asset(
    specs=[
        AssetSpec(SHEET_ROWS, description="The store's inbound control sheet as last read, one row per sheet row.",
                  kinds={"googlesheets", "postgres"}, owners=["team:operations"], group_name="fulfillment",
                  metadata=stored_in("raw.inbound_sheet_rows"), freshness_policy=_DAILY),
        AssetSpec(CHECK, deps=[SHEET_ROWS, STOCK, INBOUNDS],
                  description="Each sheet row's expected units against what JTL-FFN received, written back as "
                              "MATCH / MISMATCH (or why the row cannot be checked) in one batch update.",
                  kinds={"googlesheets", "postgres"}, owners=["team:operations"], group_name="fulfillment",
                  metadata=stored_in("ops.inbound_checks"), freshness_policy=_DAILY),
    ],
    # Checked per store with an FFN account: the same partitions as the warehouse's assets it reads.
    partitions_def=jtl_ffn_accounts,
    pool="google_sheets_api",
    op_tags=pool_queue_tags("google_sheets_api"),
    retry_policy=RetryPolicy(max_retries=2, delay=30, backoff=Backoff.EXPONENTIAL),
)
def inbound_control_check(context: AssetExecutionContext, warehouse: Warehouse, google_sheets: GoogleSheetsResource):
    summary = run_check(warehouse, google_sheets, context.partition_key, context.run_id)
    yield MaterializeResult(asset_key=SHEET_ROWS, metadata=with_table_metadata(
        warehouse, "raw.inbound_sheet_rows", {"rows_read": summary.rows_checked}))
    yield MaterializeResult(asset_key=CHECK, metadata=with_table_metadata(warehouse, "ops.inbound_checks", {
        "rows_checked": summary.rows_checked, "matched": summary.matched, "mismatched": summary.mismatched,
        "problems": summary.problems, "cells_written": summary.cells_written}))


inbound_check_job = define_asset_job("inbound_check_job", selection=[SHEET_ROWS, CHECK],
                                     partitions_def=jtl_ffn_accounts,
                                     description="Check one store's inbound control sheet against what JTL-FFN "
                                                 "received and write each row's verdict back.")


inbound_sheet_assets = [inbound_control_check]
