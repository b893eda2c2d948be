"""The demo's fulfillment part: the JTL-FFN simulator holds the demo store's stock, confirmed orders go to
it as outbounds, its shipments come back as Letzshop tracking, and the operations team's inbound
control sheet (the Google Sheets simulator, through the real gspread) is checked against what the
warehouse received, shown before and after."""
from __future__ import annotations

import click

from marketsync.assets.accounts import upsert_account
from marketsync.assets.inbound_sheet.run import save_settings
from marketsync.assets.jtl_ffn.assets import jtl_ffn_accounts, jtl_ffn_assets
from marketsync.assets.outbound_runner import drain
from marketsync.pipelines import demo_world
from marketsync.pipelines.definitions import build_resources
from marketsync.pipelines.demo_sheet import HEADER, SHEET_TITLE, WORKSHEET, control_sheet_rows
from marketsync.pipelines.demo_world import FFN_CLIENT, SHEETS_TOKEN, serve
from marketsync.pipelines.run_in_process import run_assets, run_inbound_check
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.google_sheets import GoogleSheetsResource
from marketsync.resources.jtl_ffn import JtlFfnResource, store_refresh_token
from marketsync.resources.sql_files import sql_beside
from marketsync.sandbox.google_sheets.app import create_app as create_sheets_app
from marketsync.sandbox.google_sheets.state import GoogleSheetsState
from marketsync.sandbox.jtl_ffn.app import create_app as create_ffn_app

CLIENT_ID, CLIENT_SECRET = FFN_CLIENT

def run_fulfillment(rt, store: str, seed: int, letzshop_drain, base_port: int = 0) -> dict:

    with rt.warehouse.begin() as conn:
        ffn_state, skus = demo_world.ffn_state(conn, store, seed)
    sheets_state = GoogleSheetsState()
    with serve(create_ffn_app(ffn_state), "jtl_ffn", base_port) as ffn_server, \
            serve(create_sheets_app(sheets_state), "google_sheets", base_port) as sheets_server:
        ffn = JtlFfnResource(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url=ffn_server.base_url,
                             token_url=f"{ffn_server.base_url}/token", timeout_seconds=10)
        sheets = GoogleSheetsResource(base_url=sheets_server.base_url, bearer_token=SHEETS_TOKEN)
        resources = {**build_resources(), "jtl_ffn": ffn, "google_sheets": sheets}
        with rt.warehouse.begin() as conn:
            account = upsert_account(conn, store, "jtl_ffn", ffn_server.base_url)
            store_refresh_token(conn, rt.vault, account.account_id, ffn_state.grant(CLIENT_ID)["refresh_token"])
        click.echo(f"JTL-FFN simulator at {ffn_server.base_url}: {ffn_state.size} products, "
                   f"{skus} of them the demo store's SKUs; refresh token stored encrypted")

        # Holdings, then the confirmed orders handed to the warehouse.
        first = run_assets(jtl_ffn_assets, jtl_ffn_accounts, store, resources=resources, what="JTL-FFN sync")
        click.echo(f"run {first['run_id'][:8]}: {first.get('fulfillment_products.fetched')} products, "
                   f"{first.get('fulfillment_stock.fetched')} stock lines, {first.get('fulfillment_inbounds.fetched')} "
                   f"inbounds; {first.get('fulfillment_outbound_requests.queued')} order(s) queued for the warehouse")
        letzshop_drain(ffn)
        created = [o for o in ffn_state.outbounds if o.get("salesChannel") == "letzshop"]
        for outbound in created[:2]:
            ffn_state.ship(outbound["outboundId"])  # the warehouse ships: a shipping notification each
        second = run_assets(jtl_ffn_assets, jtl_ffn_accounts, store, resources=resources, what="JTL-FFN sync")
        click.echo(f"run {second['run_id'][:8]}: {second.get('fulfillment_shipments.notifications_new')} shipping "
                   f"notification(s) -> tracking queued for {second.get('fulfillment_shipments.tracking_queued')} "
                   "order(s)")
        letzshop_drain(ffn)

        # The inbound control sheet: rows for received inbound lines, a wrong count, and rows that cannot be checked.
        with rt.warehouse.begin() as conn:
            spreadsheet_id = sheets_state.add_spreadsheet(SHEET_TITLE, control_sheet_rows(conn, account.account_id),
                                                          worksheet=WORKSHEET)

            save_settings(conn, store, spreadsheet_id=spreadsheet_id, worksheet=WORKSHEET,
                          sku_column="Merchant SKU", expected_column="Expected units", status_column="Status",
                          reference_column="Inbound reference")
        _show("sheet before", sheets_state.values(spreadsheet_id, WORKSHEET))
        check = run_inbound_check(store, resources=resources)
        writes = sheets_state.writes
        again = run_inbound_check(store, resources=resources)
        _show("sheet after", sheets_state.values(spreadsheet_id, WORKSHEET))
        click.echo(f"check: {check.get('inbound_control_check.matched')} match, "
                   f"{check.get('inbound_control_check.mismatched')} mismatch, "
                   f"{check.get('inbound_control_check.problems')} not checkable; "
                   f"{check.get('inbound_control_check.cells_written')} cells in one batch update; a second check "
                   f"wrote {again.get('inbound_control_check.cells_written')} "
                   f"({sheets_state.writes - writes} requests)")
        if sheets_state.writes != writes:
            raise MarketsyncError("the second inbound check wrote to the sheet although nothing changed")
    return {"outbounds": len(created), "tracking": second.get("fulfillment_shipments.tracking_queued")}


def _show(title: str, rows: list[list]) -> None:
    click.echo(f"  {title}:")
    for row in rows:
        cells = [str(c) for c in row] + [""] * (len(HEADER) - len(row))
        click.echo(f"    {cells[0]:<16} {cells[1]:>9}  {cells[2]:<12} {cells[3]}")


def reset(conn, store_id: int) -> None:
    """Delete what the demo store owns on the fulfillment side."""
    demo_world.run_statements(conn, sql_beside(__file__, "demo_reset_fulfillment.sql"), {"s": store_id})


def drain_with(rt, store: str):
    """The demo's outbound drain, with the FFN client for the warehouse's orders."""
    def run(ffn) -> None:
        for account, result in drain(rt.warehouse, rt.vault, {"letzshop": rt.letzshop, "jtl_ffn": ffn}, store=store,
                                     triggered_by="demo").items():
            if "error" in result:
                raise MarketsyncError(f"outbound for {account} failed: {result['error']}")
            click.echo(f"outbound {account}: {result['succeeded']} sent, {result['failed']} retrying, "
                       f"{result['dead']} dead")
    return run
