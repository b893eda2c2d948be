"""`marketsync sheets ...`: the operations team's inbound control sheet, set up and checked against JTL-FFN."""
from __future__ import annotations

import click

from marketsync.pipelines.cli.inputs import require_client
from marketsync.pipelines.cli.output import emit, json_option
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime


@click.group()
def sheets() -> None:
    """The operations team's inbound control sheet (Google Sheets), checked against JTL-FFN."""


@sheets.command("set")
@click.argument("store")
@click.option("--spreadsheet", "spreadsheet_id", help="The spreadsheet's id (from its URL).")
@click.option("--worksheet", help="The worksheet (tab) title.")
@click.option("--header-row", type=int, help="The row holding the column names (default 1).")
@click.option("--sku-column", help="Header text or letter of the merchant-SKU column.")
@click.option("--expected-column", help="Header text or letter of the expected-units column.")
@click.option("--status-column", help="Header text or letter of the column the check writes to.")
@click.option("--reference-column", help="Header text or letter of an inbound-reference column (optional).")
@click.option("--compare-with", type=click.Choice(["receipts", "stock"]),
              help="Compare with units received over the SKU's inbounds (default) or units in stock.")
@click.option("--cron", "check_cron", help="When the daily check runs (default '0 8 * * *').")
@click.option("--timezone", "check_timezone", help="The cron's time zone (default Europe/Berlin).")
@click.option("--enabled/--disabled", default=None, help="Switch the scheduled check on or off.")
@pass_runtime
def sheets_set(rt: Runtime, store: str, **settings) -> None:
    """Create or change STORE's inbound control sheet settings."""
    from marketsync.assets.inbound_sheet.run import save_settings

    with rt.warehouse.begin() as conn:
        saved = save_settings(conn, store, **settings)
    click.echo(f"inbound sheet for {store}: {saved['worksheet']} of spreadsheet {saved['spreadsheet_id']}, "
               f"checked at '{saved['check_cron']}' {saved['check_timezone']} against {saved['compare_with']}")


@sheets.command("check")
@click.argument("store")
@json_option
@pass_runtime
def sheets_check(rt: Runtime, store: str, as_json: bool) -> None:
    """Check STORE's inbound control sheet now, through its Dagster asset, after syncing what JTL-FFN
    holds (a check never writes a verdict from holdings it did not read)."""
    from marketsync.assets.accounts import get_account
    from marketsync.pipelines.run_in_process import run_inbound_check

    with rt.warehouse.begin() as conn:
        get_account(conn, store, "jtl_ffn")
    require_client("jtl_ffn", rt.client("jtl_ffn"))  # the holdings are synced first, through this client
    emit(run_inbound_check(store), as_json)
