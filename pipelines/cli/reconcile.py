"""`marketsync reconcile STORE CHANNEL [--day YYYY-MM-DD]`: one account's UTC day, the orders the channel
reports against the warehouse's (assets/operations/reconcile.py), now, in-process.

Which channels it speaks, each channel declares (`Orders.reconcile` in assets/<channel>/channel.py). It
calls the channel, so it loads the channel's client as the code location builds it; like every
command whose work found a problem, it exits non-zero when anything differs (and the store's
reconciliation alert is open)."""
from __future__ import annotations

import click

from marketsync.assets.channel_registry import channels
from marketsync.pipelines.cli.inputs import require_channel, require_client
from marketsync.pipelines.cli.output import emit, json_option
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime
from marketsync.resources.errors import MarketsyncError


@click.command("reconcile")
@click.argument("store")
@click.argument("channel", metavar="CHANNEL")
@click.option("--day", default=None, metavar="YYYY-MM-DD", help="The UTC day to reconcile (default: yesterday).")
@json_option
@pass_runtime
def reconcile(rt: Runtime, store: str, channel: str, day: str | None, as_json: bool) -> None:
    """Compare the orders, units and order totals CHANNEL (letzshop, amazon, ebay) lists for STORE's DAY
    with the warehouse: the orders missing in the warehouse, those it holds that the channel does not
    list, and those whose units or total differ. Exits 1 when anything differs."""
    # The comparison loads the alerts package: imported here, so other commands do not pay for it.
    from marketsync.assets.accounts import get_account
    from marketsync.assets.operations.reconcile import parse_day, reconcile_account, reconcile_channels, yesterday

    require_channel("reconcile", channel, reconcile_channels())
    declaration = channels()[channel]
    wanted = parse_day(day) if day else yesterday()
    with rt.warehouse.begin() as conn:
        get_account(conn, store, channel)  # a worded error before the client is built
    client = rt.client(declaration.key)
    if declaration.application_client:
        require_client(channel, client)
    result = reconcile_account(rt.warehouse, rt.vault, client, store, channel, wanted, job_name="marketsync reconcile")
    if as_json:
        emit(result.as_dict(), True)
    else:
        _print(result)
    if not result.clean:
        raise MarketsyncError(f"{result.differences} difference(s) between {result.label} and the warehouse for "
                              f"store '{store}' on {wanted.isoformat()}; the store's reconciliation alert is open")


def _print(result) -> None:
    figures = result.as_dict()
    click.echo(f"{result.label}, store {result.store}, {result.day.isoformat()} (UTC)")
    rows = [("orders", result.channel_orders, result.warehouse_orders),
            ("units", result.channel_units, result.warehouse_units)]
    for currency in sorted(set(figures["channel_totals"]) | set(figures["warehouse_totals"])):
        rows.append((f"total {currency}", figures["channel_totals"].get(currency, "-"),
                     figures["warehouse_totals"].get(currency, "-")))
    width = max(len(r[0]) for r in rows)
    click.echo(f"{''.ljust(width)}  {'channel':>10}  {'warehouse':>10}")
    for name, theirs, ours in rows:
        click.echo(f"{name.ljust(width)}  {theirs!s:>10}  {ours!s:>10}")
    click.echo(f"matched: {result.matched}")
    if result.without_total:
        click.echo(f"without a total at {result.label}: {result.without_total} (compared by units only)")
    click.echo(f"missing in the warehouse ({len(result.missing)}): {_numbers(figures['missing'])}")
    click.echo(f"in the warehouse, not at {result.label} ({len(result.extra)}): {_numbers(figures['extra'])}")
    click.echo(f"units or total differ ({len(result.differing)}):" + ("" if result.differing else " -"))
    for d in figures["differing"]:
        click.echo(f"  {d['number']}  units {d['channel_units']} at {result.label}, {d['warehouse_units']} in the "
                   f"warehouse; total {d['channel_total'] or '-'} {d['channel_currency'] or ''} at {result.label}, "
                   f"{d['warehouse_total'] or '-'} {d['warehouse_currency'] or ''} in the warehouse")
    if result.alert_opened:
        click.echo("alert opened")
    elif result.alert_closed:
        click.echo("the store's reconciliation alert is closed")


def _numbers(numbers: list[str]) -> str:
    return ", ".join(numbers) if numbers else "-"
