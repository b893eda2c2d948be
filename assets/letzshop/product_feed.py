"""A store's Letzshop product feed, landed in the canonical catalog with a title and description per
language.

Letzshop ingests a Google-Shopping-format feed as tab-separated files, one per language: title and
description are localised per file, everything else (price, barcode, brand, availability, ...)
repeats in each. The store's catalog source of kind 'letzshop_feed' (named 'letzshop_feed') holds the
per-language URLs in `settings.urls` ({"en": ..., "fr": ..., "de": ...}); any credentials in those
URLs are kept encrypted in ops.source_credentials, never in the URL. Other settings: `primary_language`
(the file product fields are read from; default: the alphabetically first language), `currency` (when
a price names none; default EUR), `max_bad_share` (default 0.1), `request_timeout_seconds` (60).

How the files become one product per `id`: the primary file gives each product and its translation;
every other file adds only its translation (like Google's supplemental feeds). Lines of other files
whose id the primary file does not hold as a loadable product are dropped and counted. Nothing is held
per product in memory: lines stream from HTTP through an incremental decoder and the csv module into
COPY batches, and Postgres does the joining when the batch is merged. The files come through the
project's feed downloader (resources.feed_transport, `open_stream`): credentials, timeouts, redirects,
and retries of 429, 5xx and network failures until the body flows; a download that breaks off after
that fails the run (transiently: the next run starts again).

A text cell a spreadsheet would run (`=`, `+`, `-`, `@`, tab or CR first) may come escaped with a
leading apostrophe, as our own export writes it (feed_cells.py): one apostrophe is taken off.

A line that cannot be trusted (wrong number of columns, no id or title, a price that is not one, an
unknown availability, a barcode whose GS1 check digit is wrong) goes to ops.quarantine with its line
number, raw text and reason, and the rest loads. Each import is an ops.import_runs row with
read = loaded + unchanged + quarantined (read counts products plus refused lines); when more than
`max_bad_share` of it is refused, nothing is merged and the run fails.
"""

import codecs
import csv
import json
import re
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from urllib.parse import urlsplit

import orjson
from dagster import (
    AssetExecutionContext,
    AssetKey,
    Backoff,
    Jitter,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
)
from sqlalchemy import Connection, Engine, text

from marketsync.assets.catalog.canonical import CatalogWriter
from marketsync.assets.catalog.gtin import normalize_gtin
from marketsync.assets.catalog.imports import CatalogImportSummary, close_run, failure_recorded, merge_unless_refused
from marketsync.assets.catalog.runs import ImportRun
from marketsync.assets.failures import worded_failure
from marketsync.assets.letzshop.feed_cells import ESCAPED, unescape_cell
from marketsync.assets.letzshop.orders import OWNERS, letzshop_accounts
from marketsync.assets.stores import ensure_store, validate_store_code
from marketsync.assets.table_metadata import stored_in, with_table_metadata
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.feed_transport import FeedStream, FeedTransport, FeedTransportError, split_credentials
from marketsync.resources.feed_transport import redact as redact_url
from marketsync.resources.sql_files import query_beside
from marketsync.resources.url_policy import UrlRefused, check_url
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse, copy_rows

SOURCE_KIND = "letzshop_feed"
SOURCE_NAME = "letzshop_feed"
CATALOG = AssetKey(["core", "letzshop_catalog"])
DEFAULT_SETTINGS: dict[str, Any] = {"currency": "EUR", "max_bad_share": 0.1, "request_timeout_seconds": 60}
QUARANTINE_COLUMNS = ("source", "record_ref", "line_number", "raw_text", "reason", "run_id", "import_run_id")
BATCH_ROWS = 5000
_RAW_LIMIT = 20_000          # characters of a refused line kept in quarantine
_RECENT_LINES = 64           # physical lines remembered to quote a refused record
_LANGUAGE = re.compile(r"[a-z]{2}")

# Google's availability values, and the spellings feeds still use for them.
AVAILABILITY = {
    "in_stock": "in_stock", "in stock": "in_stock", "instock": "in_stock", "available for order": "in_stock",
    "out_of_stock": "out_of_stock", "out of stock": "out_of_stock", "outofstock": "out_of_stock",
    "preorder": "preorder", "pre-order": "preorder", "pre_order": "preorder",
    "backorder": "backorder", "back order": "backorder", "back_order": "backorder",
}
# Columns that become canonical fields; every other non-empty column is kept in attributes.
_CANONICAL = frozenset({"id", "title", "description", "price", "availability", "gtin", "brand", "mpn", "sku",
                        "quantity"})


class FeedError(MarketsyncError):
    """A feed that cannot be imported. `transient` failures (5xx, 429, network) may succeed later."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


# ---------------------------------------------------------------------------------------- the source
@dataclass(frozen=True)
class LetzshopFeedSource:
    source_id: int
    store_id: int
    store: str
    encoding: str
    settings: dict[str, Any]
    enabled: bool

    def setting(self, name: str) -> Any:
        return self.settings.get(name, DEFAULT_SETTINGS.get(name))

    @property
    def urls(self) -> dict[str, str]:
        return dict(self.settings.get("urls") or {})

    @property
    def languages(self) -> list[str]:
        """Primary language first, then the others alphabetically."""
        urls = self.urls
        primary = self.settings.get("primary_language")
        primary = primary if primary in urls else min(urls)
        return [primary, *sorted(lang for lang in urls if lang != primary)]


def _split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    if urlsplit(url.strip()).scheme not in ("http", "https"):
        raise MarketsyncError(f"feed URL {redact_url(url)} must be http(s)://host/...")
    try:
        check_url(url.strip(), ("http", "https"), f"feed URL {redact_url(url)}")
    except UrlRefused as exc:
        raise MarketsyncError(str(exc)) from None
    clean, credentials = split_credentials(url.strip())
    return clean, (credentials["username"], credentials["password"]) if credentials else None


def add_letzshop_feed_source(conn: Connection, store: str, urls: dict[str, str], *,
                             vault: CredentialVault | None = None, primary_language: str | None = None,
                             encoding: str = "utf-8", settings: dict[str, Any] | None = None) -> int:
    """Create or update the store's Letzshop feed source (the store is created if new); returns the
    source_id. `urls` maps a two-letter language to its file's URL; `user:password@` in a URL is moved
    into ops.source_credentials (encrypted with `vault`)."""
    if not urls:
        raise MarketsyncError("a Letzshop feed needs at least one URL")
    validate_store_code(store)
    bad = [lang for lang in urls if not _LANGUAGE.fullmatch(lang)]
    if bad:
        raise MarketsyncError(f"feed languages must be two-letter codes like 'en', not {', '.join(map(repr, bad))}")
    if primary_language is not None and primary_language not in urls:
        raise MarketsyncError(f"primary language '{primary_language}' has no URL")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise MarketsyncError(f"unknown encoding '{encoding}'") from None
    clean, auth = {}, {}
    for lang, url in urls.items():
        clean[lang], credentials = _split_credentials(url)
        if credentials:
            auth[lang] = list(credentials)
    if auth and vault is None:
        raise MarketsyncError("feed URLs with credentials need the credential vault")
    merged = {**(settings or {}), "urls": clean}
    if primary_language:
        merged["primary_language"] = primary_language
    store_id = ensure_store(conn, store)
    source_id = conn.execute(
        query_beside(__file__, "feed_source_upsert.sql"),
        {"s": store_id, "n": SOURCE_NAME, "k": SOURCE_KIND, "l": clean[primary_language or min(clean)],
         "e": encoding, "st": json.dumps(merged)},
    ).scalar()
    if source_id is None:
        raise MarketsyncError(f"store '{store}' already has a catalog source named '{SOURCE_NAME}' of another kind")
    if auth:
        vault.store_source(conn, source_id, {"basic_auth": json.dumps(auth)})
    elif vault is not None:
        vault.forget_source(conn, source_id)
    else:
        conn.execute(text("DELETE FROM ops.source_credentials WHERE source_id = :s"), {"s": source_id})
    return source_id


def get_letzshop_feed_source(conn: Connection, store: str) -> LetzshopFeedSource:
    row = conn.execute(query_beside(__file__, "feed_source.sql"),
                       {"s": store, "n": SOURCE_NAME, "k": SOURCE_KIND}).first()
    if row is None or not (row.settings or {}).get("urls"):
        raise MarketsyncError(f"store '{store}' has no Letzshop product feed: add its per-language URLs")
    return LetzshopFeedSource(**row._mapping)


def _basic_auth(conn: Connection, vault: CredentialVault | None, source: LetzshopFeedSource) -> dict[str, tuple]:
    if vault is None:
        has = conn.execute(text("SELECT 1 FROM ops.source_credentials WHERE source_id = :s"),
                           {"s": source.source_id}).first()
        if has:
            raise MarketsyncError(f"the Letzshop feed of '{source.store}' has credentials: the vault is needed")
        return {}
    secrets = vault.load_source(conn, source.source_id)
    if secrets is None:
        return {}
    return {lang: tuple(pair) for lang, pair in json.loads(secrets.reveal("basic_auth")).items()}


# ---------------------------------------------------------------------------------------- fields
def parse_price(raw: str, default_currency: str) -> tuple[Decimal, str]:
    """"19.99 EUR" (Google's form), "EUR 19.99", "19,99 EUR" or "19.99" -> (Decimal, currency)."""
    value = raw.strip()
    currency = default_currency
    if len(value) > 4 and value[-4] == " " and value[-3:].isalpha():
        value, currency = value[:-4].rstrip(), value[-3:].upper()
    elif len(value) > 4 and value[3] == " " and value[:3].isalpha():
        value, currency = value[4:].lstrip(), value[:3].upper()
    if "," in value and "." not in value:
        value = value.replace(",", ".")
    try:
        price = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"price '{raw.strip()}' is not an amount like '19.99 EUR'") from None
    if not price.is_finite() or price < 0 or price >= Decimal("1e10"):
        raise ValueError(f"price '{raw.strip()}' is not an amount like '19.99 EUR'")
    return price, currency


def _header(row: list[str]) -> list[str]:
    """Column names as Google spells them: lower case, no `g:` prefix, spaces as underscores."""
    names = []
    for cell in row:
        name = cell.strip().lower().replace(" ", "_")
        names.append(name[2:] if name.startswith("g:") else name)
    return names


# ---------------------------------------------------------------------------------------- reading
class _Stream:
    """Physical lines of one feed file, decoded incrementally; remembers the last few lines (to quote
    a refused record) and whether a NUL character was seen (Postgres text cannot hold one)."""

    def __init__(self, chunks: Iterator[bytes], encoding: str, label: str):
        name = codecs.lookup(encoding).name
        self.encoding = name
        # A UTF-8 file may start with a byte-order mark; it is not part of the first column's name.
        self._decoder = codecs.getincrementaldecoder("utf-8-sig" if name == "utf-8" else name)()
        self._chunks = chunks
        self.label = label
        self.recent: deque[str] = deque(maxlen=_RECENT_LINES)
        self.bytes = 0
        self.nul_seen = False

    def __iter__(self) -> Iterator[str]:
        pending = ""
        recent = self.recent
        for chunk in self._chunks:
            self.bytes += len(chunk)
            try:
                decoded = self._decoder.decode(chunk)
            except UnicodeDecodeError:
                raise FeedError(f"the {self.label} is not valid {self.encoding} text near byte {self.bytes}: "
                                "set the source's encoding (e.g. cp1252)") from None
            if not decoded:
                continue
            if "\x00" in decoded:
                self.nul_seen = True
            # Split on \n only: str.splitlines would also break at \x1c, \u2028 and others inside a field.
            parts = (pending + decoded).split("\n")
            pending = parts.pop()
            for part in parts:
                line = part + "\n"
                recent.append(line)
                yield line
        pending += self._decoder.decode(b"", final=True)
        if pending:
            recent.append(pending)
            yield pending

    def raw(self, lines: int) -> str:
        text_ = "".join(list(self.recent)[-lines:]) if lines > 0 else ""
        return text_[:_RAW_LIMIT].replace("\x00", "\ufffd")


@dataclass
class FeedImportSummary(CatalogImportSummary):
    """One import's figures. read = loaded + unchanged + quarantined."""

    refused_what: ClassVar[str] = "feed records"

    translations_without_product: int = 0
    lines: int = 0
    languages: list[str] = field(default_factory=list)

    def metadata(self) -> dict[str, Any]:
        return super().metadata() | {"languages": MetadataValue.json(self.languages)}


class _Batches:
    """Products, translations and refused lines on their way to COPY, flushed every BATCH_ROWS."""

    def __init__(self, conn: Connection, writer: CatalogWriter, summary: FeedImportSummary,
                 run_id: str | None, store: str):
        self.conn, self.writer, self.summary = conn, writer, summary
        self.run_id, self.store = run_id, store
        self.products: list[tuple] = []
        self.translations: list[tuple] = []
        self.refused: list[tuple] = []

    def refuse(self, stream: _Stream, line_number: int, lines: int, ref: str | None, reason: str) -> None:
        self.refused.append(("letzshop_feed", ref, line_number, stream.raw(lines), f"{stream.label}: {reason}",
                             self.run_id, self.summary.import_run_id))
        if len(self.summary.reasons) < 20:
            self.summary.reasons.append(f"{stream.label} line {line_number}: {reason}")

    def flush_if_full(self) -> None:
        if len(self.products) >= BATCH_ROWS or len(self.translations) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        # Emptied in place: the parser holds on to these very lists.
        if self.products:
            self.writer.write_products(self.products)
            self.products.clear()
        if self.translations:
            self.writer.write_translations(self.translations)
            self.translations.clear()
        if self.refused:
            self.summary.quarantined += copy_rows(self.conn, "ops.quarantine", QUARANTINE_COLUMNS, self.refused)
            self.refused.clear()


def _read_file(stream: _Stream, language: str, primary: bool, currency: str, batches: _Batches) -> int:
    """Parse one language's file into the batches; returns its data lines."""
    reader = csv.reader(stream, delimiter="\t", quotechar='"', strict=False)
    try:
        header = _header(next(reader))
    except StopIteration:
        raise FeedError(f"the {stream.label} is empty") from None
    except csv.Error as exc:
        raise FeedError(f"the {stream.label} header cannot be read ({exc})") from None
    required = ("id", "title", "price") if primary else ("id", "title")
    missing = [name for name in required if name not in header]
    if missing:
        raise FeedError(f"the {stream.label} has no {', '.join(missing)} column (columns: {', '.join(header)[:300]})")
    width = len(header)
    col = {name: i for i, name in reversed(list(enumerate(header)))}  # the first of a repeated name wins
    i_id, i_title = col["id"], col["title"]
    i_description = col.get("description")
    i_price, i_availability, i_gtin = col.get("price"), col.get("availability"), col.get("gtin")
    i_brand, i_mpn, i_sku, i_quantity = col.get("brand"), col.get("mpn"), col.get("sku"), col.get("quantity")
    extras = [(name, i) for i, name in enumerate(header) if name not in _CANONICAL and name and col[name] == i]
    products, translations = batches.products, batches.translations
    previous = reader.line_num
    data_lines = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            start, previous = previous + 1, reader.line_num
            data_lines += 1
            batches.refuse(stream, start, previous - start + 1, None, f"unreadable line ({exc})")
            continue
        start, previous = previous + 1, reader.line_num
        if len(row) != width:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # a blank line is no record
            data_lines += 1
            batches.refuse(stream, start, previous - start + 1, row[0].strip() or None,
                           f"line has {len(row)} fields, the header has {width}")
            continue
        data_lines += 1
        if any(map(ESCAPED.match, row)):  # cells a spreadsheet would run, written escaped (feed_cells.py)
            row = [unescape_cell(cell) for cell in row]
        external_id = row[i_id].strip()
        title = row[i_title].strip()
        description = row[i_description].strip() if i_description is not None else ""
        if stream.nul_seen and any("\x00" in cell for cell in row):
            batches.refuse(stream, start, previous - start + 1, external_id or None, "line contains a NUL character")
            continue
        if not external_id:
            batches.refuse(stream, start, previous - start + 1, None, "no id")
            continue
        if not primary:
            if not title and not description:
                batches.refuse(stream, start, previous - start + 1, external_id, "no title or description")
                continue
            translations.append((external_id, language, title or None, description or None))
            batches.flush_if_full()
            continue
        try:
            product = _product(row, external_id, currency, i_price, i_availability, i_gtin, i_brand, i_mpn,
                               i_sku, i_quantity, extras)
        except ValueError as exc:
            batches.refuse(stream, start, previous - start + 1, external_id, str(exc))
            continue
        if not title:
            batches.refuse(stream, start, previous - start + 1, external_id, "no title")
            continue
        products.append(product)
        translations.append((external_id, language, title, description or None))
        batches.flush_if_full()
    return data_lines


def _product(row: list[str], external_id: str, currency: str, i_price, i_availability, i_gtin, i_brand, i_mpn,
             i_sku, i_quantity, extras) -> tuple:
    """The product tuple (PRODUCT_COLUMNS order) of a primary-file line; ValueError says why not."""
    raw_price = row[i_price]
    if not raw_price.strip():
        raise ValueError("no price")
    price, price_currency = parse_price(raw_price, currency)
    availability = None
    if i_availability is not None and row[i_availability].strip():
        raw = row[i_availability].strip()
        availability = AVAILABILITY.get(raw.lower())
        if availability is None:
            raise ValueError(f"availability '{raw[:40]}' is not one of in_stock, out_of_stock, preorder, backorder")
    attributes: dict[str, Any] = {}
    gtin14 = None
    if i_gtin is not None:
        raw_gtin = row[i_gtin].strip()
        if raw_gtin:
            first, _, others = raw_gtin.partition(",")
            gtin = normalize_gtin(first)
            if gtin.problem:
                raise ValueError(gtin.problem)
            gtin14 = gtin.gtin14
            if others.strip():
                attributes["other_gtins"] = [g.strip() for g in others.split(",") if g.strip()]
    quantity = None
    if i_quantity is not None and row[i_quantity].strip():
        try:
            quantity = int(row[i_quantity].strip())
        except ValueError:
            raise ValueError(f"quantity '{row[i_quantity].strip()[:40]}' is not a whole number") from None
    for name, i in extras:
        value = row[i].strip()
        if value:
            attributes[name] = [v.strip() for v in value.split(",") if v.strip()] \
                if name == "additional_image_link" else value
    brand = row[i_brand].strip() if i_brand is not None else ""
    mpn = row[i_mpn].strip() if i_mpn is not None else ""
    sku = row[i_sku].strip() if i_sku is not None else ""
    return (external_id, gtin14, sku or external_id, mpn or None, brand or None, price, price_currency,
            availability, quantity, "physical", None, None, None, orjson.dumps(attributes).decode(), None)


# ---------------------------------------------------------------------------------------- fetching
def _transport(timeout: float, attempts: int, max_retry_wait: float) -> FeedTransport:
    """The project's feed downloader (resources.feed_transport), with the source's timeout: a file is
    read as it arrives (`open_stream`), its opening retried on 429, 5xx and network failures."""
    return FeedTransport(connect_timeout_seconds=min(timeout, 10.0), read_timeout_seconds=timeout,
                         retry_attempts=attempts, retry_wait_seconds=0.5, max_retry_wait_seconds=max_retry_wait,
                         chunk_bytes=1 << 16, allow_local_files=False)


def _open(transport: FeedTransport, url: str, auth: tuple | None, label: str) -> FeedStream:
    """The file's body, streaming; failing to open it is a FeedError (transient when a later run may
    succeed)."""
    credentials = {"username": auth[0], "password": auth[1]} if auth else None
    try:
        return transport.open_stream(url, credentials,
                                     headers={"Accept": "text/tab-separated-values, text/plain, */*"})
    except FeedTransportError as exc:
        raise FeedError(f"the {label} could not be fetched: {exc}", transient=exc.transient) from None


def _chunks(stream: FeedStream, label: str) -> Iterator[bytes]:
    try:
        yield from stream
    except FeedTransportError as exc:
        raise FeedError(f"the download of the {label} broke off ({exc.reason})", transient=True) from None


# ---------------------------------------------------------------------------------------- the import
def import_letzshop_feed(engine: Engine, store: str, run_id: str | None = None, *,
                         vault: CredentialVault | None = None, attempts: int = 4,
                         max_retry_wait: float = 30.0) -> FeedImportSummary:
    """Fetch every language's file of the store's Letzshop feed and merge them into the canonical
    catalog; returns the figures. Raises FeedError/MarketsyncError after recording the failed run."""
    started = time.perf_counter()
    with engine.begin() as conn:
        source = get_letzshop_feed_source(conn, store)
        auth = _basic_auth(conn, vault, source)
    run = ImportRun.start(engine, {"source_id": source.source_id, "mapping_version": None}, run_id)
    summary = FeedImportSummary(import_run_id=run.import_run_id, languages=source.languages)
    currency = str(source.setting("currency")).upper()
    max_bad_share = float(source.setting("max_bad_share"))
    timeout = float(source.setting("request_timeout_seconds"))
    with failure_recorded(run, summary):
        run.downloading()
        transport = _transport(timeout, attempts, max_retry_wait)
        with engine.begin() as conn:
            writer = CatalogWriter(conn, source.source_id)
            batches = _Batches(conn, writer, summary, run_id, store)
            for position, language in enumerate(source.languages):
                label = f"{language} feed"
                with _open(transport, source.urls[language], auth.get(language), label) as body:
                    if position == 0:
                        run.parsing()
                    stream = _Stream(_chunks(body, label), source.encoding, label)
                    summary.lines += _read_file(stream, language, position == 0, currency, batches)
                    summary.bytes_read += stream.bytes
                batches.flush()
            # Translations without a product are dropped before the merge.
            summary.translations_without_product = conn.execute(
                query_beside(__file__, "product_feed_orphans.sql")).scalar_one()
            merge_unless_refused(run, conn, writer, summary, max_bad_share)
        close_run(run, summary, max_bad_share, refused=FeedError)
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


# ---------------------------------------------------------------------------------------- the asset
@asset(
    key=CATALOG,
    partitions_def=letzshop_accounts,
    group_name="catalog",
    owners=OWNERS,
    kinds={"letzshop", "http", "postgres"},
    metadata=stored_in("core.marketplace_products"),
    retry_policy=RetryPolicy(max_retries=2, delay=60, backoff=Backoff.EXPONENTIAL, jitter=Jitter.FULL),
)
def letzshop_catalog(context: AssetExecutionContext, warehouse: Warehouse, vault: CredentialVault) -> MaterializeResult:
    """The store's products as it lists them on Letzshop (core.marketplace_products, physical goods),
    from its Google-Shopping-format product feed: one product per feed id with its title and
    description in every language of the feed, price and currency, availability, GTIN (check digit
    verified), brand and MPN. Each run writes only what changed and records an ops.import_runs row."""
    with worded_failure():
        summary = import_letzshop_feed(warehouse.engine, context.partition_key, context.run_id, vault=vault)
    if summary.quarantined:
        context.log.warning(f"{summary.quarantined} feed lines quarantined; first: {summary.reasons[0]}")
    return MaterializeResult(metadata=with_table_metadata(warehouse, "core.marketplace_products", summary.metadata()))


letzshop_catalog_assets = [letzshop_catalog]
