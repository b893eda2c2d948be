"""Supplier pull feeds as a Dagster asset, one partition per feed (`<store>.<feed>`):
download (HTTP(S), FTP(S), local) -> parse -> map -> quarantine -> merge into the canonical catalog."""
import tempfile
from datetime import timedelta
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    Backoff,
    DynamicPartitionsDefinition,
    FreshnessPolicy,
    Jitter,
    MaterializeResult,
    RetryPolicy,
    asset,
)

from marketsync.assets.catalog.runs import ImportRun
from marketsync.assets.failures import worded_failure
from marketsync.assets.feeds.loader import load_feed
from marketsync.assets.feeds.sources import get_source, max_download_bytes, plain_ftp_login, redacted
from marketsync.assets.table_metadata import stored_in, with_table_metadata
from marketsync.resources.celery_queues import pool_queue_tags
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.feed_transport import FeedTransport
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse

supplier_feeds = DynamicPartitionsDefinition(name="supplier_feeds")


def feed_partition_key(store: str, feed: str) -> str:
    return f"{store}.{feed}"


def split_partition_key(key: str) -> tuple[str, str]:
    store, _, feed = key.partition(".")
    return store, feed


def import_pull_feed(warehouse: Warehouse, vault: CredentialVault, transport: FeedTransport, store: str,
                     feed: str, dagster_run_id: str | None = None) -> dict:
    """Download the feed to a temporary file and load it; the import run shows each stage."""
    with warehouse.begin() as conn:
        source = get_source(conn, store, feed)
        secrets = vault.load_source(conn, source["source_id"])
    credentials = None
    if secrets is not None:
        credentials = {k: secrets.reveal(k) for k in ("username", "password", "token") if k in secrets.masked()}
    run = ImportRun.start(warehouse.engine, source, dagster_run_id)
    with tempfile.TemporaryDirectory(prefix="marketsync-feed-") as tmp:
        try:
            run.downloading()
            download = transport.download(source["location"], Path(tmp) / "feed", credentials=credentials,
                                          max_bytes=max_download_bytes(source),
                                          plain_ftp_login=plain_ftp_login(source))
        except MarketsyncError as exc:
            run.fail(str(exc))
            raise
        result = load_feed(warehouse.engine, source, download.path, dagster_run_id=dagster_run_id, run=run)
    return {"import_run_id": result.import_run_id, "status": result.status, "rows_read": result.rows_read,
            "rows_loaded": result.rows_loaded, "rows_unchanged": result.rows_unchanged,
            "rows_quarantined": result.rows_quarantined, "rows_skipped": result.rows_skipped, "bytes": download.bytes,
            "download_seconds": round(download.seconds, 3), "seconds": round(result.seconds, 3),
            "parse_workers": result.parse_workers, "location": redacted(source["location"])}


@asset(
    key=["core", "supplier_feed_products"],
    partitions_def=supplier_feeds,
    group_name="catalog",
    owners=["team:data-engineering"],
    kinds={"supplier_feed", "http", "postgres"},
    metadata=stored_in("core.marketplace_products"),
    pool="feed_downloads",
    op_tags=pool_queue_tags("feed_downloads"),
    # Pulled every `refresh_minutes` (60 by default; daily feeds exist): late after 3 hours, failed after a day.
    freshness_policy=FreshnessPolicy.time_window(fail_window=timedelta(hours=26), warn_window=timedelta(hours=3)),
    retry_policy=RetryPolicy(max_retries=2, delay=60, backoff=Backoff.EXPONENTIAL, jitter=Jitter.FULL),
)
def supplier_feed_products(context: AssetExecutionContext, warehouse: Warehouse, vault: CredentialVault,
                           feed_transport: FeedTransport) -> MaterializeResult:
    """A supplier's products as its pulled feed describes them (CSV/TSV, XML or JSON, mapped by the
    feed's versioned mapping) in the canonical catalog; malformed rows quarantined with line, raw text
    and reason. Only changed rows are written; store products connect by SKU/GTIN where the feed says
    so, and pending order exceptions whose GTIN now matches resolve by themselves."""
    store, feed = split_partition_key(context.partition_key)
    with worded_failure():
        summary = import_pull_feed(warehouse, vault, feed_transport, store, feed, context.run_id)
    return MaterializeResult(metadata=with_table_metadata(warehouse, "core.marketplace_products", summary))


pull_feed_assets = [supplier_feed_products]
