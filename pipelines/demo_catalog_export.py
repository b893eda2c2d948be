"""The demo's catalog-out part: the demo store lists the products of its Letzshop feed (linked by SKU), and
its catalog goes out as its Letzshop product feed (one TSV per language), delivered by the Dagster asset
to the folder its Letzshop account names; the head of the primary file is shown."""
from __future__ import annotations

import csv
import io

import click

from marketsync.assets.accounts import upsert_account
from marketsync.assets.letzshop.catalog_export import letzshop_catalog_feed_assets
from marketsync.assets.letzshop.orders import letzshop_accounts
from marketsync.pipelines.run_in_process import run_assets
from marketsync.resources.database import marketsync_home
from marketsync.resources.sql_files import query_beside

SHOWN_LINES = 3
SHOWN_COLUMNS = ("id", "title", "price", "availability", "gtin")


def run_catalog_export(rt, store: str) -> dict:
    folder = marketsync_home() / "demo" / "letzshop-catalog"
    folder.mkdir(parents=True, exist_ok=True)
    with rt.warehouse.begin() as conn:
        account = upsert_account(conn, store, "letzshop", settings={"catalog_export": {"location": str(folder)}})
        linked = conn.execute(query_beside(__file__, "demo_link_letzshop_feed.sql"), {"s": account.store_id}).rowcount
    click.echo(f"{linked} store products linked to their Letzshop feed products by SKU (price, texts)")
    figures = run_assets(letzshop_catalog_feed_assets, letzshop_accounts, store, what="Letzshop catalog export")
    name = "letzshop_catalog_feed"
    click.echo(f"run {figures['run_id'][:8]}: {figures[f'{name}.dagster/row_count']} products, primary language "
               f"{figures[f'{name}.primary_language']}, {figures[f'{name}.encoding']}, "
               f"{figures[f'{name}.left_out']} left out (no price or no title) -> {folder}")
    files = {path.name: _records(path) for path in sorted(folder.glob(f"{store}-catalog-*.tsv"))}
    for filename, records in files.items():
        click.echo(f"  {filename}: {len(records) - 1} products")
    rows = files[f"{store}-catalog-{figures[f'{name}.primary_language']}.tsv"]
    header, positions = rows[0], [rows[0].index(c) for c in SHOWN_COLUMNS]
    click.echo("  " + "\t".join(header[i] for i in positions))
    for row in rows[1:1 + SHOWN_LINES]:
        click.echo("  " + "\t".join(row[i][:40] for i in positions))
    return figures


def _records(path) -> list[list[str]]:
    """The file's records, header first (a quoted description may span lines)."""
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8")), delimiter="\t"))
