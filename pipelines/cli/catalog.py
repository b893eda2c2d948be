"""`marketsync catalog ...`: a store's catalog sources (the Letzshop product feed, CodesWholesale, supplier
feeds), their imports and the import runs, and the store catalog's export to a channel."""
from __future__ import annotations

import click

from marketsync.pipelines.cli.inputs import secrets_from_stdin, store_option
from marketsync.pipelines.cli.output import emit, json_option
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside


@click.group()
def catalog() -> None:
    """Catalog sources: the Letzshop product feed, CodesWholesale, supplier feeds."""


@catalog.command("add-letzshop-feed")
@click.argument("store")
@click.option("--url", "urls", multiple=True, required=True, metavar="LANG=URL",
              help="One per language file, e.g. --url en=https://.../en.tsv")
@click.option("--primary-language", default=None, help="The file whose prices, GTINs etc. count.")
@pass_runtime
def catalog_add_letzshop_feed(rt: Runtime, store: str, urls: tuple[str, ...], primary_language: str | None) -> None:
    """Add (or update) the store's Letzshop product feed: one tab-separated file per language."""
    from marketsync.assets.letzshop.product_feed import add_letzshop_feed_source

    pairs = {}
    for pair in urls:
        lang, sep, url = pair.partition("=")
        if not sep:
            raise MarketsyncError(f"--url '{pair}' is not of the form LANG=URL")
        pairs[lang.strip()] = url.strip()
    with rt.warehouse.begin() as conn:
        source_id = add_letzshop_feed_source(conn, store, pairs, vault=rt.vault, primary_language=primary_language)
    click.echo(f"Letzshop feed source {source_id} for {store}: languages {', '.join(sorted(pairs))}")


@catalog.command("add-codeswholesale")
@click.argument("store")
@click.option("--base-url", required=True, help="API base URL (sandbox or production).")
@click.option("--low-balance", type=click.FloatRange(min=0), default=None,
              help="Alert while the account has less than this to spend (default 50, the account's currency).")
@pass_runtime
def catalog_add_codeswholesale(rt: Runtime, store: str, base_url: str, low_balance: float | None) -> None:
    """Add CodesWholesale; reads {"client_id": ..., "client_secret": ...} from stdin."""
    from marketsync.assets.codeswholesale.catalog import add_codeswholesale_source

    fields = secrets_from_stdin()
    settings = {"low_balance_alert": low_balance} if low_balance is not None else None
    with rt.warehouse.begin() as conn:
        source_id = add_codeswholesale_source(conn, rt.vault, store, base_url, fields.get("client_id", ""),
                                              fields.get("client_secret", ""), settings)
    click.echo(f"CodesWholesale source {source_id} for {store}; client secret stored encrypted")


@catalog.command("import")
@click.argument("store")
@click.argument("source")
@json_option
@pass_runtime
def catalog_import(rt: Runtime, store: str, source: str, as_json: bool) -> None:
    """Import STORE's catalog from SOURCE now, through its Dagster asset.

    SOURCE is `letzshop` (the store's Letzshop product feed), `codeswholesale`, or the name of one of
    its pulled supplier feeds (`marketsync feeds list --store STORE`)."""
    from marketsync.pipelines.run_in_process import run_catalog_import

    _known_catalog_source(rt, store, source)
    emit(run_catalog_import(store, source), as_json)


def _known_catalog_source(rt: Runtime, store: str, source: str) -> None:
    """Refuse, in words, a source the store does not have (before a Dagster partition is made for it)."""
    if source in ("letzshop", "codeswholesale"):
        return
    from marketsync.assets.feeds.sources import list_sources

    with rt.warehouse.begin() as conn:
        feeds = [s for s in list_sources(conn, store) if s["kind"] == "pull_feed"]
    if not any(s["name"] == source for s in feeds):
        names = ", ".join(["letzshop", "codeswholesale", *sorted(s["name"] for s in feeds)])
        raise MarketsyncError(f"store '{store}' has no catalog source '{source}': catalog import reads {names}")


@catalog.command("export")
@click.argument("store")
@click.argument("channel", type=click.Choice(["letzshop"]))
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="Write the files into this folder instead of delivering them to the configured location.")
@json_option
@pass_runtime
def catalog_export(rt: Runtime, store: str, channel: str, out: str | None, as_json: bool) -> None:
    """Export STORE's catalog to CHANNEL now: Letzshop's product feed, one TSV file per language.

    Without --out the files go to the account's `catalog_export.location` through the Dagster asset
    (`marketsync account add STORE letzshop --set catalog_export.location=URL`)."""
    from pathlib import Path

    from marketsync.assets.letzshop.catalog_export import configured_location, export_catalog

    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        export = export_catalog(rt.warehouse.engine, store, vault=rt.vault, out=out)
        emit(export.summary(), as_json)
        return
    if configured_location(rt.warehouse.engine, store) is None:
        raise MarketsyncError(f"no catalog export location for {store} on letzshop: set one with `marketsync "
                              f"account add {store} letzshop --set catalog_export.location=URL`, or use --out DIR")
    from marketsync.assets.letzshop.catalog_export import letzshop_catalog_feed_assets
    from marketsync.assets.letzshop.orders import letzshop_accounts
    from marketsync.pipelines.run_in_process import run_assets

    emit(run_assets(letzshop_catalog_feed_assets, letzshop_accounts, store, what="Letzshop catalog export"),
         as_json)


@catalog.command("runs")
@store_option
@click.option("--limit", default=20, show_default=True)
@json_option
@pass_runtime
def catalog_runs(rt: Runtime, store: str | None, limit: int, as_json: bool) -> None:
    """Recent catalog imports: status and rows read / loaded / unchanged / quarantined."""
    with rt.warehouse.begin() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query_beside(__file__, "recent_import_runs.sql"),
                                                       {"s": store, "n": limit})]
    emit(rows, as_json)
