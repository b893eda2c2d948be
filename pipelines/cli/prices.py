"""`marketsync prices ...`: the price rule of a store channel, a price push, and why a listing costs what
it costs (every term, with the ledger of its pushes)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

import click

from marketsync.pipelines.cli.output import emit, json_option
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime


class _Money(click.ParamType):
    """An amount or percentage as a Decimal (never a float: money)."""

    name = "amount"

    def convert(self, value, param, ctx):
        if isinstance(value, Decimal):
            return value
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            self.fail(f"'{value}' is not a number", param, ctx)
        if not amount.is_finite():
            self.fail(f"'{value}' is not a finite number", param, ctx)
        return amount


MONEY = _Money()


@click.group()
def prices() -> None:
    """What each listing costs per channel (the store's price, else the catalog's, by the channel's rule),
    pushed as deltas and explained in a ledger."""


@prices.command("rules")
@click.argument("store")
@click.argument("channel")
@click.option("--markup", "markup_percent", type=MONEY, help="Percent added to the base price (e.g. 12.5).")
@click.option("--add", "fixed_add", type=MONEY, help="A fixed amount added after the markup.")
@click.option("--round", "rounding", type=click.Choice(["none", ".99", ".95"]),
              help="Round to the cent (none) or up to the next price ending in .99 / .95.")
@click.option("--floor", type=MONEY, help="No price goes out below this, whatever the inputs.")
@click.option("--ceiling", type=MONEY, help="No price goes out above this (unless the floor is higher).")
@click.option("--no-ceiling", "clear_ceiling", is_flag=True, help="Remove the ceiling.")
@click.option("--currency", help="The currency of the floor and ceiling (three letters; default EUR).")
@click.option("--location", help="A file channel's delivery place (Letzshop: the price file).")
@click.option("--enabled/--disabled", default=None, help="Switch price pushes to this channel on or off.")
@json_option
@pass_runtime
def prices_rules(rt: Runtime, store: str, channel: str, location: str | None, as_json: bool, **values) -> None:
    """Show or set STORE's price rule on CHANNEL (given options change, the others stay)."""
    from marketsync.assets.prices.settings import load_settings, save_settings

    if values.get("currency"):
        values["currency"] = values["currency"].upper()
    changing = location is not None or any(v not in (None, False) for v in values.values())
    with rt.warehouse.begin() as conn:
        # Without options: show the rule (a store channel without one is told how to set it).
        saved = save_settings(conn, store, channel, delivery={"location": location} if location else None,
                              **values) if changing else load_settings(conn, store, channel)
    rule = saved.rule
    emit([{"store": saved.store, "channel": saved.channel, "enabled": saved.enabled,
           "markup_percent": f"{rule.markup_percent:f}", "fixed_add": f"{rule.fixed_add:f}", "rounding": rule.rounding,
           "floor": f"{rule.floor:f}", "ceiling": "-" if rule.ceiling is None else f"{rule.ceiling:f}",
           "currency": rule.currency, "location": saved.delivery.get("location") or "-"}], as_json)


@prices.command("push")
@click.argument("store")
@click.argument("channel")
@click.option("--full", is_flag=True, help="Push every listing, not only those whose price changed.")
@json_option
def prices_push(store: str, channel: str, full: bool, as_json: bool) -> None:
    """Push STORE's prices to CHANNEL now (a Dagster run of its product_price_sync asset)."""
    from marketsync.pipelines.environment import prepare_environment
    from marketsync.pipelines.run_in_process import run_price_push

    prepare_environment()
    emit(run_price_push(store, channel, "full" if full else "incremental"), as_json)


@prices.command("explain")
@click.argument("store")
@click.argument("sku")
@click.option("--channel", help="Only this channel.")
@click.option("--history", type=int, default=5, show_default=True, help="Pushes to show per channel.")
@json_option
@pass_runtime
def prices_explain(rt: Runtime, store: str, sku: str, channel: str | None, history: int, as_json: bool) -> None:
    """Why STORE's SKU costs what it costs on each channel, term by term, with its push ledger."""
    import json
    from dataclasses import asdict

    from marketsync.assets.prices.explain import explain, render

    with rt.warehouse.begin() as conn:
        report = explain(conn, store, sku, channel, history)
    if as_json:
        for entry in report["channels"]:
            entry["terms"] = asdict(entry["terms"]) if entry["terms"] is not None else None
        click.echo(json.dumps(report, default=str, indent=2))
    else:
        click.echo(render(report))
