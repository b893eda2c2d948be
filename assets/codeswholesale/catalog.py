"""The CodesWholesale price list of a store, landed in the canonical catalog.

A store that resells digital keys from CodesWholesale has one catalog source of kind 'codeswholesale'
named 'codeswholesale' (ops.catalog_sources): `location` is the API base URL (live or sandbox), the
OAuth client id and secret are encrypted in ops.source_credentials, and `settings` may hold
`currency` (of the account's prices, default EUR), `filters` (platform, region, language,
product_ids, in_stock_days_ago), `name_language` (default en) and `max_bad_share` (default 0.1).

An import pages through `GET /v3/products` and streams every page into one CatalogWriter (COPY into
staging, one merge at the end that writes only what changed), inside one transaction, while the next
page is already being fetched. Each import is an ops.import_runs row (pending -> downloading ->
parsing -> upserting -> completed | partially_completed | failed) whose counts always satisfy
read = loaded + unchanged + quarantined; records that cannot be trusted go to ops.quarantine with the
reason, and the rest loads. When more than `max_bad_share` of the records are refused, nothing is
merged and the run fails (the quarantined records stay, to show what was wrong).
"""

import json
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AutomationCondition,
    Backoff,
    DynamicPartitionsDefinition,
    FreshnessPolicy,
    Jitter,
    MaterializeResult,
    RetryPolicy,
    asset,
)
from sqlalchemy import Connection, Engine

from marketsync.assets.catalog.canonical import CatalogWriter
from marketsync.assets.catalog.imports import CatalogImportSummary, close_run, failure_recorded, merge_unless_refused
from marketsync.assets.catalog.runs import ImportRun
from marketsync.assets.codeswholesale.normalise import RefusedProduct, normalise_product
from marketsync.assets.failures import worded_failure
from marketsync.assets.stores import ensure_store
from marketsync.assets.table_metadata import stored_in, with_table_metadata
from marketsync.resources.celery_queues import pool_queue_tags
from marketsync.resources.codeswholesale import SANDBOX_URL, CodesWholesaleResource
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.prefetch import prefetched
from marketsync.resources.sql_files import query_beside
from marketsync.resources.url_policy import UrlRefused, check_url
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse, copy_rows

OWNERS = ["team:data-engineering"]
GROUP = "catalog"
CODESWHOLESALE_POOL = "codeswholesale_api"
SOURCE_KIND = "codeswholesale"
SOURCE_NAME = "codeswholesale"
PRODUCTS = AssetKey(["core", "codeswholesale_products"])
REFRESH_CRON = "0 */6 * * *"
DEFAULT_SETTINGS: dict[str, Any] = {"currency": "EUR", "filters": {}, "name_language": "en", "max_bad_share": 0.1,
                                    # Alert while the balance (and credit) to spend is below this amount.
                                    "low_balance_alert": 50}
QUARANTINE_COLUMNS = ("source", "record_ref", "line_number", "raw_text", "reason", "run_id", "import_run_id")
_RAW_LIMIT = 20_000  # characters of a refused record kept in quarantine

codeswholesale_accounts = DynamicPartitionsDefinition(name="codeswholesale_accounts")


# ---------------------------------------------------------------------------------------- the source
@dataclass(frozen=True)
class CodesWholesaleSource:
    source_id: int
    store_id: int
    store: str
    base_url: str
    settings: dict[str, Any]
    enabled: bool

    def setting(self, name: str) -> Any:
        return self.settings.get(name, DEFAULT_SETTINGS.get(name))


def _checked_base_url(base_url: str) -> str:
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MarketsyncError(f"CodesWholesale base URL must be http(s)://host, e.g. {SANDBOX_URL}")
    if parts.username or parts.password:
        # ops.catalog_sources.location never holds credentials; they go to ops.source_credentials.
        raise MarketsyncError("CodesWholesale base URL must not contain credentials")
    try:
        check_url(base_url.strip(), ("http", "https"), "the CodesWholesale base URL")
    except UrlRefused as exc:
        raise MarketsyncError(str(exc)) from None
    return base_url.strip().rstrip("/")


def add_codeswholesale_source(conn: Connection, vault: CredentialVault, store: str, base_url: str,
                              client_id: str, client_secret: str, settings: dict[str, Any] | None = None) -> int:
    """Create or update the store's CodesWholesale source (the store is created if new) and store its
    client credentials encrypted; returns the source_id. `settings` are merged into the existing ones."""
    if not client_id or not client_secret:
        raise MarketsyncError("CodesWholesale needs both a client id and a client secret")
    location = _checked_base_url(base_url)
    store_id = ensure_store(conn, store)
    source_id = conn.execute(
        query_beside(__file__, "source_upsert.sql"),
        {"s": store_id, "n": SOURCE_NAME, "k": SOURCE_KIND, "l": location, "st": json.dumps(settings or {})},
    ).scalar()
    if source_id is None:
        raise MarketsyncError(f"store '{store}' already has a catalog source named '{SOURCE_NAME}' of another kind")
    vault.store_source(conn, source_id, {"client_id": client_id, "client_secret": client_secret})
    return source_id


def find_codeswholesale_source(conn: Connection, store: str) -> CodesWholesaleSource | None:
    row = conn.execute(
        query_beside(__file__, "source_get.sql"),
        {"s": store, "n": SOURCE_NAME, "k": SOURCE_KIND}).first()
    return CodesWholesaleSource(**row._mapping) if row is not None else None


def get_codeswholesale_source(conn: Connection, store: str) -> CodesWholesaleSource:
    source = find_codeswholesale_source(conn, store)
    if source is None:
        raise MarketsyncError(f"store '{store}' has no CodesWholesale source: add one with its client credentials")
    return source


def codeswholesale_store_codes(conn: Connection) -> list[str]:
    """Stores with an enabled CodesWholesale source: the partition keys of `codeswholesale_accounts`."""
    return list(conn.execute(
        query_beside(__file__, "source_store_codes.sql"),
        {"k": SOURCE_KIND, "n": SOURCE_NAME}).scalars())


def _client_credentials(conn: Connection, vault: CredentialVault, source: CodesWholesaleSource) -> tuple[str, str]:
    secrets = vault.load_source(conn, source.source_id)
    if secrets is None:
        raise MarketsyncError(f"no client credentials stored for the CodesWholesale source of '{source.store}'")
    return secrets.reveal("client_id"), secrets.reveal("client_secret")


# ---------------------------------------------------------------------------------------- the import
@dataclass
class ImportSummary(CatalogImportSummary):
    """One import's figures. read = loaded + unchanged + quarantined (records refused)."""

    pages: int = 0
    requests: int = 0
    tokens_fetched: int = 0


def _normalised_page(items: list, page_number: int, currency: str, name_language: str,
                     quarantine: list[tuple], run_id: str | None, import_run_id: int) -> tuple[list, list]:
    products, translations = [], []
    for position, item in enumerate(items, 1):
        try:
            product, names = normalise_product(item, currency=currency, name_language=name_language)
        except RefusedProduct as exc:
            ref = item.get("productId") if isinstance(item, dict) else None
            raw = orjson.dumps(item, option=orjson.OPT_SORT_KEYS).decode()[:_RAW_LIMIT]
            quarantine.append(("codeswholesale", str(ref or f"page {page_number} item {position}"), None,
                               raw.replace("\x00", "\ufffd"), str(exc), run_id, import_run_id))
            continue
        products.append(product)
        translations.extend(names)
    return products, translations


def import_codeswholesale_catalog(engine: Engine, vault: CredentialVault, resource: CodesWholesaleResource,
                                  store: str, run_id: str | None = None) -> ImportSummary:
    """Import the store's whole CodesWholesale price list; returns the figures. Raises
    MarketsyncError (after recording the failed run) when the import cannot complete."""
    started = time.perf_counter()
    with engine.begin() as conn:
        source = get_codeswholesale_source(conn, store)
        client_id, client_secret = _client_credentials(conn, vault, source)
    run = ImportRun.start(engine, {"source_id": source.source_id, "mapping_version": None}, run_id)
    summary = ImportSummary(import_run_id=run.import_run_id)
    currency = str(source.setting("currency")).upper()
    name_language = str(source.setting("name_language"))
    max_bad_share = float(source.setting("max_bad_share"))
    with failure_recorded(run, summary):
        with resource.session(source.base_url, client_id, client_secret) as api:
            run.downloading()
            with engine.begin() as conn:
                writer = CatalogWriter(conn, source.source_id)
                for page in prefetched(api.product_pages(**(source.setting("filters") or {}))):
                    summary.pages += 1
                    if summary.pages == 1:
                        run.parsing()
                    quarantine: list[tuple] = []
                    products, translations = _normalised_page(page, summary.pages, currency, name_language,
                                                              quarantine, run_id, summary.import_run_id)
                    writer.write_products(products)
                    if translations:
                        writer.write_translations(translations)
                    if quarantine:
                        summary.quarantined += copy_rows(conn, "ops.quarantine", QUARANTINE_COLUMNS, quarantine)
                        summary.reasons.extend(q[4] for q in quarantine[: max(0, 20 - len(summary.reasons))])
                summary.requests, summary.tokens_fetched = api.requests, api.tokens_fetched
                summary.bytes_read = api.bytes_received
                merge_unless_refused(run, conn, writer, summary, max_bad_share)
        close_run(run, summary, max_bad_share)
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


# ---------------------------------------------------------------------------------------- the asset
@asset(
    key=PRODUCTS,
    partitions_def=codeswholesale_accounts,
    group_name=GROUP,
    owners=OWNERS,
    kinds={"codeswholesale", "http", "postgres"},
    metadata=stored_in("core.marketplace_products"),
    pool=CODESWHOLESALE_POOL,
    op_tags=pool_queue_tags(CODESWHOLESALE_POOL),
    automation_condition=AutomationCondition.on_cron(REFRESH_CRON, cron_timezone="Europe/Berlin"),
    # Refreshed every six hours: one missed refresh warns, two fail.
    freshness_policy=FreshnessPolicy.time_window(fail_window=timedelta(hours=13), warn_window=timedelta(hours=7)),
    retry_policy=RetryPolicy(max_retries=2, delay=60, backoff=Backoff.EXPONENTIAL, jitter=Jitter.FULL),
)
def codeswholesale_products(context: AssetExecutionContext, warehouse: Warehouse, vault: CredentialVault,
                            codeswholesale: CodesWholesaleResource) -> MaterializeResult:
    """The digital keys a store can resell from CodesWholesale (core.marketplace_products, product_type
    'digital'): platform, regions, languages, stock, the single-key price and every quantity tier.

    Refreshed every 6 hours by default: the automation condition is
    `AutomationCondition.on_cron("0 */6 * * *")` (Europe/Berlin), for every store partition. Each run
    writes only the products whose content changed and records an ops.import_runs row."""
    # Refused credentials or a broken price list fail the same way again; only a transient fault retries.
    with worded_failure():
        summary = import_codeswholesale_catalog(warehouse.engine, vault, codeswholesale, context.partition_key,
                                                context.run_id)
    if summary.quarantined:
        context.log.warning(f"{summary.quarantined} CodesWholesale records quarantined; first: {summary.reasons[0]}")
    return MaterializeResult(metadata=with_table_metadata(warehouse, "core.marketplace_products", summary.metadata()))


codeswholesale_assets = [codeswholesale_products]
