"""`marketsync stock ...`: settings, manual stock, listing rules, pushes, the ledger and the drift check."""
from __future__ import annotations

import click

from marketsync.pipelines.cli.output import emit, json_option
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime
from marketsync.resources.sql_files import query_beside


@click.group()
def stock() -> None:
    """What each listing may sell per channel, pushed as deltas and explained in a ledger."""


@stock.command("settings")
@click.argument("store")
@click.argument("channel")
@click.option("--strategy", type=click.Choice(["realtime", "batch", "manual"]),
              help="realtime: within a minute of a change; batch: every --interval; manual: only `stock push`.")
@click.option("--interval", "batch_interval_minutes", type=int, help="Minutes between batch pushes (default 60).")
@click.option("--safety-stock", type=int, help="Units kept back from every listing on this channel.")
@click.option("--threshold", "out_of_stock_threshold", type=int, help="At or below this, the listing is out of stock.")
@click.option("--sync-zero-stock/--no-sync-zero-stock", default=None,
              help="Sync when stock = 0: at or below the threshold push 0 (default), or push nothing at "
                   "all (the channel keeps its last number). Never more than is available.")
@click.option("--max-lag", "max_lag_minutes", type=int,
              help="Minutes without a successful sync before the check fails.")
@click.option("--listings", type=click.Choice(["catalog", "known"]),
              help="Listings: every product (catalog; Letzshop's default) or those the channel knows (known: "
                   "sold or acknowledged there, or listed by `stock rule --list`; Amazon's and eBay's default).")
@click.option("--adapter", help="The channel's stock adapter (letzshop: letzshop_csv, letzshop_graphql).")
@click.option("--location", help="Where the stock file goes: /dir, file:///dir/, ftp(s)://host/dir/, "
                                 "sftp://host/dir/ or http(s)://host/path/ (no credentials in it).")
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE",
              help="Other delivery settings: filename ({store}, {sync_id}, {timestamp}), delimiter, username, "
                   "host_key, known_hosts, timeout, graphql_mutation. KEY= removes one.")
@click.option("--enabled/--disabled", default=None, help="Switch stock pushes to this channel on or off.")
@json_option
@pass_runtime
def stock_settings(rt: Runtime, store: str, channel: str, pairs: tuple[str, ...], location: str | None,
                   as_json: bool, **values) -> None:
    """Show or change STORE's stock settings on CHANNEL. Secrets (inventory_password, inventory_token,
    inventory_private_key, inventory_passphrase) go in `marketsync credentials set STORE CHANNEL`."""
    from dataclasses import asdict

    from marketsync.assets.stock.settings import save_settings

    delivery: dict = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"'{pair}' is not KEY=VALUE", param_hint="--set")
        delivery[key.strip()] = value or None
    if location is not None:
        delivery["location"] = location
    with rt.warehouse.begin() as conn:
        saved = save_settings(conn, store, channel, delivery=delivery, **values)
    emit([asdict(saved)], as_json, ["store", "channel", "enabled", "strategy", "batch_interval_minutes",
                                    "safety_stock", "out_of_stock_threshold", "sync_zero_stock", "max_lag_minutes",
                                    "listings", "adapter", "delivery"])


@stock.command("adjust")
@click.argument("store")
@click.argument("sku")
@click.option("--count", type=int, help="Units on the shelf now (a stock count).")
@click.option("--add", "delta", type=int, help="Units added (negative: removed) since the last count.")
@click.option("--reason", help="Why, for the ledger's readers.")
@json_option
@pass_runtime
def stock_adjust(rt: Runtime, store: str, sku: str, count: int | None, delta: int | None, reason: str | None,
                 as_json: bool) -> None:
    """Record manual stock for STORE's SKU."""
    from marketsync.assets.stock.manual import adjust

    with rt.warehouse.begin() as conn:
        emit(adjust(conn, store, sku, count=count, delta=delta, reason=reason), as_json)


@stock.command("rule")
@click.argument("store")
@click.argument("channel")
@click.argument("sku")
@click.option("--override", type=int, help="Always list this quantity on CHANNEL.")
@click.option("--max", "maximum", type=int, help="Never list more than this on CHANNEL.")
@click.option("--clear-override", is_flag=True)
@click.option("--clear-max", is_flag=True)
@click.option("--list/--unlist", "listed", default=None,
              help="Make the product a listing on CHANNEL, or not (unlisted: sent 0 once, then left alone).")
@click.option("--clear-list", "clear_listed", is_flag=True, help="Back to the channel's `listings` setting.")
@click.option("--note")
@json_option
@pass_runtime
def stock_rule(rt: Runtime, store: str, channel: str, sku: str, as_json: bool, **rule) -> None:
    """Set or clear a listing's fixed quantity, maximum, or whether it is listed on one channel."""
    from marketsync.assets.stock.manual import set_rule

    with rt.warehouse.begin() as conn:
        emit(set_rule(conn, store, channel, sku, **rule), as_json)


@stock.command("push")
@click.argument("store")
@click.argument("channel")
@click.option("--full", is_flag=True, help="Push every listing, not only those that differ from the channel's.")
@click.option("--sku", "skus", multiple=True, help="Push only these listings (repeatable).")
@json_option
def stock_push(store: str, channel: str, full: bool, skus: tuple[str, ...], as_json: bool) -> None:
    """Push STORE's stock to CHANNEL now (a Dagster run of core/channel_stock)."""
    from marketsync.pipelines.environment import prepare_environment
    from marketsync.pipelines.run_in_process import run_stock_push
    from marketsync.resources.errors import MarketsyncError

    if full and skus:
        raise MarketsyncError("--full and --sku exclude each other")
    prepare_environment()
    mode = "full" if full else "single" if skus else "incremental"
    emit(run_stock_push(store, channel, mode, list(skus)), as_json)


@stock.command("explain")
@click.argument("store")
@click.argument("sku")
@click.option("--history", type=int, default=5, show_default=True, help="Pushes to show per channel.")
@json_option
@pass_runtime
def stock_explain(rt: Runtime, store: str, sku: str, history: int, as_json: bool) -> None:
    """Why STORE's SKU shows the number it shows on each channel, term by term, with its push ledger."""
    import json

    from marketsync.assets.stock.explain import explain, render

    with rt.warehouse.begin() as conn:
        report = explain(conn, store, sku, history)
    click.echo(json.dumps(report, default=str, indent=2) if as_json else render(report))


@stock.command("drift")
@click.argument("store")
@click.argument("channel")
@click.option("--repair", is_flag=True, help="Push the right numbers to the drifted listings at once.")
@json_option
@pass_runtime
def stock_drift(rt: Runtime, store: str, channel: str, repair: bool, as_json: bool) -> None:
    """Compare CHANNEL's own stock with what it acknowledged; drifted listings are pushed again."""
    from marketsync.assets.channel_clients import application_client
    from marketsync.assets.stock.drift import drift_check

    result = drift_check(rt.warehouse, rt.vault, store, channel, repair=repair,
                         clients={name: application_client(name, deferred=False) for name in ("ebay", "amazon")})
    emit({k: v for k, v in result.as_dict().items() if k != "examples"}, as_json)


@stock.command("log")
@click.argument("store")
@click.argument("channel", required=False)
@click.option("--limit", type=int, default=20, show_default=True)
@json_option
@pass_runtime
def stock_log(rt: Runtime, store: str, channel: str | None, limit: int, as_json: bool) -> None:
    """The inventory sync log: STORE's last pushes (mode, counts, errors)."""
    with rt.warehouse.begin() as conn:
        rows = conn.execute(query_beside(__file__, "recent_inventory_syncs.sql"),
                            {"s": store, "c": channel, "n": limit}).mappings().all()
    emit([dict(r) for r in rows], as_json)
