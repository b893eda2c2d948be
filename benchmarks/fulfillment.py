"""Fulfillment: the stock of 100,000 jfskus paged from the JTL-FFN simulator into core.fulfillment_stock
(first sync and an unchanged re-sync), and a 10,000-row inbound control sheet checked against it
through the real gspread and the Sheets simulator (first check, which writes every status in one batch
update, and a second check, which writes nothing).

Sizes from the environment: BENCH_FFN_JFSKUS (default 100,000), BENCH_SHEET_ROWS (default 10,000).
Each figure is wall time of one run in this process, with its peak RSS so far.
"""
from __future__ import annotations

import os
import time

from benchmarks.common import bench_database, peak_rss_mb

JFSKUS = int(os.environ.get("BENCH_FFN_JFSKUS", "100000"))
SHEET_ROWS = int(os.environ.get("BENCH_SHEET_ROWS", "10000"))
CLIENT_ID, CLIENT_SECRET = "bench", "bench-secret"


def main() -> None:
    from sqlalchemy import text

    from marketsync.assets.accounts import upsert_account
    from marketsync.assets.inbound_sheet.run import run_check, save_settings
    from marketsync.assets.jtl_ffn.sync import sync_products, sync_stock
    from marketsync.resources.google_sheets import GoogleSheetsResource
    from marketsync.resources.jtl_ffn import JtlFfnResource, store_refresh_token
    from marketsync.sandbox.google_sheets.app import create_app as create_sheets_app
    from marketsync.sandbox.google_sheets.state import GoogleSheetsState
    from marketsync.sandbox.http import serve_in_thread
    from marketsync.sandbox.jtl_ffn.app import create_app as create_ffn_app
    from marketsync.sandbox.jtl_ffn.state import JtlFfnState

    figures: list[str] = []
    with bench_database("fulfillment") as (warehouse, vault, _):
        ffn_state = JtlFfnState(seed=5, size=JFSKUS, clients={CLIENT_ID: CLIENT_SECRET})
        sheets_state = GoogleSheetsState()
        with serve_in_thread(create_ffn_app(ffn_state)) as ffn_server, \
                serve_in_thread(create_sheets_app(sheets_state)) as sheets_server:
            ffn = JtlFfnResource(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url=ffn_server.base_url,
                                 token_url=f"{ffn_server.base_url}/token", timeout_seconds=30)
            with warehouse.begin() as conn:
                account = upsert_account(conn, "bench", "jtl_ffn", ffn_server.base_url)
                store_refresh_token(conn, vault, account.account_id, ffn_state.grant(CLIENT_ID)["refresh_token"])
            with ffn.account_session(warehouse.engine, vault, account.account_id) as api:
                sync_products(warehouse, api, account.account_id)
                for label in ("first sync", "re-sync, nothing changed"):
                    started = time.perf_counter()
                    result = sync_stock(warehouse, api, account.account_id)
                    seconds = time.perf_counter() - started
                    figures.append(f"    stock {label}: {result.fetched:,} jfskus in {seconds:.1f} s = "
                                   f"{result.fetched / seconds:,.0f} jfskus/s, {result.written:,} rows written, "
                                   f"peak RSS {peak_rss_mb():.0f} MB")

            with warehouse.begin() as conn:
                skus = conn.execute(text("SELECT merchant_sku, sum(s.stock_level) FROM core.fulfillment_products p "
                                         "JOIN core.fulfillment_stock s USING (account_id, jfsku) "
                                         "WHERE p.account_id = :a GROUP BY 1 ORDER BY 1 LIMIT :n"),
                                    {"a": account.account_id, "n": SHEET_ROWS}).all()
            rows = [["Merchant SKU", "Expected units", "Status"]]
            rows += [[sku, str(int(units) + (1 if k % 10 == 0 else 0)), ""] for k, (sku, units) in enumerate(skus)]
            spreadsheet_id = sheets_state.add_spreadsheet("Bench", rows)
            with warehouse.begin() as conn:
                save_settings(conn, "bench", spreadsheet_id=spreadsheet_id, worksheet="Sheet1", sku_column="A",
                              expected_column="B", status_column="C", compare_with="stock")
            sheets = GoogleSheetsResource(base_url=sheets_server.base_url, bearer_token="bench-token")
            for label in ("first check", "second check, nothing changed"):
                started = time.perf_counter()
                summary = run_check(warehouse, sheets, "bench")
                seconds = time.perf_counter() - started
                figures.append(f"    sheet {label}: {summary.rows_checked:,} rows in {seconds:.2f} s "
                               f"({summary.matched:,} match, {summary.mismatched:,} mismatch), "
                               f"{summary.cells_written:,} cells written; Sheets requests so far: "
                               f"{sheets_state.reads} reads, {sheets_state.writes} writes")
    print(f"fulfillment: {JFSKUS:,} jfskus paged from the JTL-FFN simulator; a {SHEET_ROWS:,}-row inbound sheet")
    print("\n".join(figures))


if __name__ == "__main__":
    main()
