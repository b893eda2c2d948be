"""One inbound control check of a store: read the sheet, land its rows, compare them with what JTL-FFN
received (core.fulfillment_*), write the statuses that changed in one batch update, log the check.

Settings per store live in ops.inbound_sheets (`marketsync sheets set`). The sheet is read in one
request and written in at most one: Google allows 60 reads and 60 writes per minute per user, and a
check with nothing changed writes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from sqlalchemy import Connection, text

from marketsync.assets.accounts import get_account
from marketsync.assets.inbound_sheet.check import (
    MATCH,
    MISMATCH,
    Received,
    RowResult,
    cell_updates,
    check_rows,
    locate_columns,
)
from marketsync.assets.stores import find_store_id
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.google_sheets import GoogleSheetsResource
from marketsync.resources.sql_files import query_beside
from marketsync.resources.warehouse import Warehouse

SETTING_FIELDS = ("spreadsheet_id", "worksheet", "header_row", "sku_column", "expected_column", "status_column",
                  "reference_column", "compare_with", "check_cron", "check_timezone", "enabled")


@dataclass
class CheckSummary:
    """What one check did; rows_checked = matched + mismatched + problems."""

    store: str
    rows_checked: int = 0
    matched: int = 0
    mismatched: int = 0
    problems: int = 0
    cells_written: int = 0
    results: list[RowResult] = field(default_factory=list)


def save_settings(conn: Connection, store: str, **settings: Any) -> dict[str, Any]:
    """Create or change the store's sheet settings; unknown keys, a bad cron or time zone are refused."""
    unknown = set(settings) - set(SETTING_FIELDS)
    if unknown:
        raise MarketsyncError(f"unknown sheet settings {', '.join(sorted(unknown))}")
    current = get_settings(conn, store, required=False) or {}
    merged = {"header_row": 1, "reference_column": None, "compare_with": "receipts", "check_cron": "0 8 * * *",
              "check_timezone": "Europe/Berlin", "enabled": True}
    merged.update({k: v for k, v in current.items() if k in SETTING_FIELDS})
    merged.update({k: v for k, v in settings.items() if v is not None})
    missing = [k for k in ("spreadsheet_id", "worksheet", "sku_column", "expected_column", "status_column")
               if not merged.get(k)]
    if missing:
        raise MarketsyncError(f"the sheet settings need {', '.join(missing)}")
    if merged["compare_with"] not in ("receipts", "stock"):
        raise MarketsyncError("compare_with must be 'receipts' or 'stock'")
    _check_schedule(merged["check_cron"], merged["check_timezone"])
    store_id = find_store_id(conn, store)
    if store_id is None:
        raise MarketsyncError(f"unknown store '{store}': add an account for it first")
    row = conn.execute(query_beside(__file__, "settings_upsert.sql"), {"store_id": store_id, **merged}).mappings().one()
    return dict(row)


def _check_schedule(cron: str, timezone: str) -> None:
    from croniter import croniter

    if not croniter.is_valid(cron):
        raise MarketsyncError(f"'{cron}' is not a cron schedule (for example '0 8 * * *': 08:00 every day)")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise MarketsyncError(f"unknown time zone '{timezone}' (for example Europe/Berlin)") from None


def get_settings(conn: Connection, store: str, required: bool = True) -> dict[str, Any] | None:
    row = conn.execute(query_beside(__file__, "settings_get.sql"), {"s": store}).mappings().first()
    if row is None and required:
        raise MarketsyncError(f"store '{store}' has no inbound control sheet: "
                              f"set one with `marketsync sheets set {store} …`")
    return dict(row) if row else None


def load_received(conn: Connection, account_id: int) -> Received:
    by_sku: dict[str, Decimal] = {}
    by_inbound: dict[tuple[str, str], Decimal] = {}
    in_stock: dict[str, Decimal] = {}
    skus: set[str] = set()
    inbounds: set[str] = set()
    for kind, inbound, sku, units in conn.execute(query_beside(__file__, "received.sql"), {"account_id": account_id}):
        if kind == "sku" and sku is not None:
            by_sku[sku] = units
        elif kind == "inbound" and sku is not None:
            by_inbound[(inbound, sku)] = units
        elif kind == "stock":
            in_stock[sku] = units
        elif kind == "known_sku":
            skus.add(sku)
        elif kind == "known_inbound":
            inbounds.add(inbound)
    return Received(by_sku, by_inbound, in_stock, frozenset(skus), frozenset(inbounds))


def run_check(warehouse: Warehouse, sheets: GoogleSheetsResource, store: str,
              run_id: str | None = None) -> CheckSummary:
    """Check the store's sheet once (see the module docstring). Raises MarketsyncError (or the sheet's
    GoogleSheetsError) with one clear reason when the sheet cannot be read or written; rows that cannot
    be checked get their reason as their status instead."""
    with warehouse.begin() as conn:
        settings = get_settings(conn, store)
        account = get_account(conn, store, "jtl_ffn")
        _require_synced_holdings(conn, store, account.account_id)
        received = load_received(conn, account.account_id)
    worksheet = sheets.open_worksheet(settings["spreadsheet_id"], settings["worksheet"])
    rows = worksheet.rows()
    header_row = settings["header_row"]
    if len(rows) < header_row:
        raise MarketsyncError(f"the sheet '{settings['worksheet']}' has no header row {header_row} (it has "
                              f"{len(rows)} rows)")
    columns = locate_columns(rows[header_row - 1], settings["sku_column"], settings["expected_column"],
                             settings["status_column"], settings["reference_column"])
    results = check_rows(rows, header_row, columns, received, settings["compare_with"])
    updates = cell_updates(rows, results, columns)
    summary = CheckSummary(store=store, rows_checked=len(results), results=results,
                           matched=sum(r.outcome == MATCH for r in results),
                           mismatched=sum(r.outcome == MISMATCH for r in results))
    summary.problems = summary.rows_checked - summary.matched - summary.mismatched
    with warehouse.begin() as conn:
        _land_rows(conn, settings["store_id"], rows)
    if updates:
        worksheet.write_cells(updates)
        summary.cells_written = len(updates)
    with warehouse.begin() as conn:
        conn.execute(query_beside(__file__, "check_record.sql"),
                     {"s": settings["store_id"], "r": run_id, "n": summary.rows_checked, "m": summary.matched,
                      "x": summary.mismatched, "p": summary.problems, "w": summary.cells_written})
    return summary


def _require_synced_holdings(conn: Connection, store: str, account_id: int) -> None:
    """A verdict is only as good as the holdings it compares with: before JTL-FFN's stock was ever read
    for this account every SKU would look unknown, and the operations team would act on that."""
    synced = conn.execute(text("SELECT stock_counted_at FROM ops.accounts WHERE account_id = :a"),
                          {"a": account_id}).scalar()
    if synced is None:
        raise MarketsyncError(
            f"JTL-FFN holdings of store '{store}' were never synced, so the sheet was not checked (no status "
            f"written): run `marketsync sync fulfillment {store}` (or `marketsync sheets check {store}`, which "
            "syncs first) once the FFN account works")


def _land_rows(conn: Connection, store_id: int, rows: list[list[str]]) -> None:
    conn.execute(query_beside(__file__, "rows_replace.sql"), {"store_id": store_id})
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy("COPY raw.inbound_sheet_rows (store_id, row_number, cells) FROM STDIN") as copy:
        for number, row in enumerate(rows, 1):
            copy.write_row((store_id, number, orjson.dumps(row).decode()))
