"""The demo's supplier with a Shopify shop: its own product export, added by preset the way `marketsync
feeds add --url ... --preset shopify-products` adds it, previewed before anything loads, then imported.

What the preview shows is what the preset makes of the export's grouped rows: a variant's row carries
only the Handle and its own cells, and takes its product's title, HTML body (with its plain text) and
vendor from the product's first row, never its SKU, barcode, price or stock; an oversold variant's
negative stock loads as 0 with a note; rows that only add an image join their product's images.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import click
from sqlalchemy import Connection

from marketsync.assets.feeds.detect import HEAD_BYTES, detect
from marketsync.assets.feeds.preset_choice import choose_preset
from marketsync.assets.feeds.preview import preview_feed
from marketsync.assets.feeds.sources import add_source
from marketsync.pipelines import demo_world
from marketsync.pipelines.cli.feeds import show_preview
from marketsync.pipelines.run_in_process import run_catalog_import
from marketsync.resources.feed_transport import FeedTransport
from marketsync.resources.sql_files import query_beside

SOURCE = "shopify-export"
# `marketsync feeds add demo shopify-export --url ... --preset shopify-products --currency EUR`
PRESET = "shopify-products"


def run_shopify_export(rt, store: str, feed_server_url: str) -> None:
    """Add the export served at `feed_server_url` by preset, show its preview, and import it."""
    url = f"{feed_server_url}/files/{demo_world.SHOPIFY_EXPORT}"
    user, password = demo_world.FEED_AUTH
    with tempfile.TemporaryDirectory(prefix="marketsync-demo-") as tmp:
        path = Path(tmp) / "export.csv"
        FeedTransport().download(url, path, credentials={"username": user, "password": password})
        with path.open("rb") as handle:
            found = detect(handle.read(HEAD_BYTES))
        choice = choose_preset(found, PRESET, currency="EUR")
        with rt.warehouse.begin() as conn:
            source = add_source(conn, store, SOURCE, "pull_feed", choice.format, url, choice.mapping,
                                choice.encoding, {"preset": choice.ref}, "demo")
            rt.vault.store_source(conn, source["source_id"], {"username": user, "password": password})
        click.echo(f"  {SOURCE}: a Shopify product export added by preset {choice.ref} (detection, asked too, "
                   f"says {found.best} with confidence {found.confidence:.2f}); its preview before it loads:")
        show_preview(preview_feed(source, path, limit=6))
    run_catalog_import(store, SOURCE)


def untitled_variants(conn: Connection, store: str) -> int:
    """How many of the export's imported variants have no title (each should have its product's)."""
    return conn.execute(query_beside(__file__, "demo_untitled_variants.sql"),
                        {"store": store, "source": SOURCE}).scalar_one()
