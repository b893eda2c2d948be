"""The store catalog out to Letzshop: the store's products as Letzshop's product feed, the files our own
feed reader (product_feed.py) reads, delivered where the inventory file goes.

The feed is Google-Shopping-format TSV, one file per language the store's catalog has text in: title
and description are that language's, every other column repeats in each file. Columns: `id` (the
store's SKU, as in the inventory file), `title`, `description`, `link`, `image_link`,
`additional_image_link`, `availability` (Google's words), `price` ("19.99 EUR"), `brand`, `gtin` (the
GTIN-13 where the GTIN-14 starts with 0; other barcodes after a comma), `mpn`, `condition`,
`google_product_category`, `product_type`, `quantity`, then every other text attribute of the
catalog by name. Values are the store's (core.products) over the marketplace product's it lists, and
a language's text is the store's own translation over the marketplace product's, as
analytics.store_catalog resolves them.

- The primary file (the `primary_language` setting, else the first language of the store's fallback
  chain that the catalog has) carries every product: one with no text of its own in that language
  takes the store's fallback (the first language of the chain, then any, then the store product's own
  title). Every other file carries the products with a text of their own in its language; the reader
  takes a product's fields from the primary file and only its translation from the others.
- A product with no price, or no title in any language, cannot be a feed line (the reader refuses
  it); so is one with a character the file's encoding cannot write. They are left out, counted by
  reason in the export's figures, and the rest goes out.
- Text cells a spreadsheet would run (`=`, `+`, `-`, `@`, tab or CR first) are written with a leading
  apostrophe, which the reader takes off again (feed_cells.py); fields are trimmed, as the reader
  trims them; a cell with a tab, a line break or a quote is quoted (RFC 4180 style, as the reader
  reads it).

Where the files go is the Letzshop account's setting `catalog_export` (`marketsync account add STORE
letzshop --set catalog_export.location=sftp://host/dir/`): `location` (a folder, ftp(s)://, sftp://
or an http(s):// URL taking PUT, as for the inventory file, resources/stock_delivery), `filename`
(default `{store}-catalog-{language}.tsv`), `encoding` (utf-8, cp1252, iso-8859-1 or any other the
reader accepts; default utf-8), `languages` (default: every language the catalog has),
`primary_language`, `currency` (for a price that names none; default EUR), and the delivery's
`username`, `host_key`, `known_hosts` and `timeout`. Secrets are the account's encrypted credentials,
the inventory file's: `inventory_password`, `inventory_token`, `inventory_private_key`,
`inventory_passphrase` (an HTTP location defaults to the API key).
"""
import codecs
import csv
import hashlib
import io
import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AutomationCondition,
    Backoff,
    Jitter,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
)
from sqlalchemy import Connection, Engine

from marketsync.assets.accounts import Account, get_account
from marketsync.assets.failures import worded_failure
from marketsync.assets.letzshop.feed_cells import escape_cell
from marketsync.assets.letzshop.orders import OWNERS, letzshop_accounts
from marketsync.assets.letzshop.product_feed import _CANONICAL, AVAILABILITY
from marketsync.assets.stock.channels import NoSecrets, delivery_target
from marketsync.assets.stock.settings import StockSettings
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside
from marketsync.resources.stock_delivery import DeliveryTarget, deliver_file, describe_location
from marketsync.resources.vault import CredentialVault, VaultError
from marketsync.resources.warehouse import Warehouse

CATALOG_FEED = AssetKey(["exports", "letzshop_catalog_feed"])
SETTING = "catalog_export"
DEFAULT_FILENAME = "{store}-catalog-{language}.tsv"
SETTING_KEYS = frozenset({"location", "filename", "encoding", "languages", "primary_language", "currency",
                          "username", "host_key", "known_hosts", "timeout"})
# Every day at 05:00 (Europe/Berlin), for every store partition.
EXPORT_CRON = "0 5 * * *"
# Letzshop's columns (its Google-Shopping feed), in its order; then the quantity and the other attributes.
FEED_COLUMNS = ("id", "title", "description", "link", "image_link", "additional_image_link", "availability",
                "price", "brand", "gtin", "mpn", "condition", "google_product_category", "product_type")
_FIELD_COLUMNS = frozenset({"id", "title", "description", "availability", "price", "brand", "gtin", "mpn",
                            "quantity"})
_ATTRIBUTE_NAME = re.compile(r"[a-z0-9][a-z0-9_]*")
_LANGUAGE = re.compile(r"[a-z]{2}")
_SECRET_KEY = re.compile(r"pass|secret|token|private|api_?key|credential", re.I)
_YIELD_ROWS = 2000
_EXAMPLES = 20


# ---------------------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class ExportSettings:
    values: dict[str, Any]

    @classmethod
    def of(cls, account: Account | None) -> "ExportSettings":
        values = (account.setting(SETTING) if account else None) or {}
        if not isinstance(values, dict):
            raise MarketsyncError(f"the account setting {SETTING} must be an object like "
                                  f'{{"location": "sftp://host/dir/"}}, not {values!r}')
        for key in values:
            if key not in SETTING_KEYS:
                hint = (" (secrets belong in `marketsync credentials set`, as inventory_password, inventory_token, "
                        "inventory_private_key, inventory_passphrase)" if _SECRET_KEY.search(key) else "")
                raise MarketsyncError(f"unknown {SETTING} setting '{key}'{hint}; "
                                      f"known: {', '.join(sorted(SETTING_KEYS))}")
        encoding = values.get("encoding", "utf-8")
        try:
            codecs.lookup(encoding)
        except (LookupError, TypeError):
            raise MarketsyncError(f"{SETTING}.encoding '{encoding}' is not an encoding (utf-8, cp1252, ...)") from None
        languages = values.get("languages")
        if languages is not None and (not isinstance(languages, list)
                                      or not all(isinstance(x, str) and _LANGUAGE.fullmatch(x) for x in languages)):
            raise MarketsyncError(f"{SETTING}.languages must list two-letter codes like [\"de\", \"fr\"]")
        return cls(values)

    @property
    def location(self) -> str | None:
        return self.values.get("location") or None

    @property
    def encoding(self) -> str:
        return self.values.get("encoding", "utf-8")

    @property
    def filename(self) -> str:
        return self.values.get("filename", DEFAULT_FILENAME)

    @property
    def currency(self) -> str:
        return str(self.values.get("currency", "EUR")).upper()


def _target(conn: Connection, account: Account, settings: ExportSettings, vault: CredentialVault | None
            ) -> DeliveryTarget:
    """Where the files go: the location and public options from the setting, secrets from the account's
    credentials, exactly as the inventory file's (assets/stock/channels.delivery_target)."""
    if not settings.location:
        raise MarketsyncError(f"no catalog export location for {account.store} on letzshop: set one with "
                              f"`marketsync account add {account.store} letzshop --set {SETTING}.location=URL`, "
                              f"or export to a folder with --out DIR")
    secrets: Any = NoSecrets()
    if vault is not None:
        try:
            secrets = vault.load(conn, account.account_id) or NoSecrets()
        except VaultError:
            secrets = NoSecrets()
    stock_like = StockSettings(account_id=account.account_id, store_id=account.store_id, store=account.store,
                               channel=account.channel, delivery=settings.values)
    return delivery_target(stock_like, secrets)


# ---------------------------------------------------------------------------------------- writing
@dataclass
class FeedFile:
    language: str
    filename: str
    rows: int
    data: bytes = field(repr=False)
    location: str | None = None


@dataclass
class CatalogExport:
    """One export: the files and their figures. products = lines of the primary file; left_out by reason."""

    store: str
    languages: list[str]
    primary_language: str
    encoding: str
    products: int = 0
    left_out: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    files: list[FeedFile] = field(default_factory=list)
    seconds: float = 0.0

    def leave_out(self, sku: str, reason: str, detail: str = "") -> None:
        self.left_out[reason] += 1
        if len(self.examples) < _EXAMPLES:
            self.examples.append(f"{sku}: {reason}{detail}")

    def metadata(self) -> dict[str, Any]:
        return {
            "dagster/row_count": self.products,
            "languages": MetadataValue.json(self.languages),
            "primary_language": self.primary_language,
            "encoding": self.encoding,
            "left_out": sum(self.left_out.values()),
            "left_out_by_reason": MetadataValue.json(dict(self.left_out)),
            "files": MetadataValue.json([{"language": f.language, "filename": f.filename, "rows": f.rows,
                                          "bytes": len(f.data), "location": f.location} for f in self.files]),
            "seconds": self.seconds,
        }

    def summary(self) -> dict[str, Any]:
        """The figures as a command prints them."""
        return {"store": self.store, "products": self.products, "primary_language": self.primary_language,
                "encoding": self.encoding, "left_out": dict(self.left_out), "examples": self.examples,
                "files": [{"language": f.language, "filename": f.filename, "rows": f.rows, "bytes": len(f.data),
                           "location": f.location} for f in self.files]}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _price(price: Decimal, currency: str) -> str:
    cents = price.quantize(Decimal("0.01"))
    return f"{cents if cents == price else price.normalize():f} {currency}"


def _gtin(gtin14: str | None, others: Any) -> str:
    if not gtin14:
        return ""
    cells = [gtin14[1:] if gtin14.startswith("0") else gtin14]
    if isinstance(others, list):
        cells += [g.strip() for g in others if isinstance(g, str) and g.strip() and "," not in g]
    return ",".join(cells)


def attribute_columns(names: Iterable[str]) -> list[str]:
    """The catalog's attribute names a feed column carries back as the same attribute: Letzshop's
    first, then the others by name (never a field the reader reads into a column of its own)."""
    extra = sorted(n for n in names if _ATTRIBUTE_NAME.fullmatch(n) and n not in _CANONICAL
                   and n not in FEED_COLUMNS and n != "other_gtins")
    return [*FEED_COLUMNS, "quantity", *extra]


def _attribute(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if name == "additional_image_link" and isinstance(value, list):
        return ",".join(v.strip() for v in value if isinstance(v, str) and v.strip() and "," not in v)
    return ""


def _first(texts: Mapping[str, list], chain: list[str], part: int) -> str:
    for language in chain:
        value = _text((texts.get(language) or [None, None])[part])
        if value:
            return value
    return ""


def choose_languages(available: list[str], fallback: list[str], settings: ExportSettings) -> tuple[list[str], str]:
    """(the files' languages, primary first then by name; the primary language)."""
    wanted = settings.values.get("languages") or available or fallback[:1] or ["de"]
    primary = settings.values.get("primary_language")
    if primary not in wanted:
        primary = next((lang for lang in fallback if lang in wanted), min(wanted))
    return [primary, *sorted(set(wanted) - {primary})], primary


def write_feed(rows: Iterable[Mapping[str, Any]], store: str, languages: list[str], fallback: list[str],
               columns: list[str], settings: ExportSettings) -> CatalogExport:
    """The feed files of `rows` (catalog_export_rows.sql), one per language, `languages[0]` primary."""
    primary = languages[0]
    export = CatalogExport(store, languages, primary, codecs.lookup(settings.encoding).name)
    chain = [*fallback, *sorted({*languages, *fallback} - set(fallback))]
    pattern = settings.filename
    if len(languages) > 1 and "{language}" not in pattern:
        raise MarketsyncError(f"{SETTING}.filename '{pattern}' needs {{language}}: the files of "
                              f"{', '.join(languages)} would replace each other")
    line = io.StringIO()
    writer = csv.writer(line, delimiter="\t", quotechar='"', lineterminator="\n")
    bodies: dict[str, list[str]] = {lang: [] for lang in languages}
    counts = dict.fromkeys(languages, 0)
    position = {name: i for i, name in enumerate(columns)}

    def written(cells: list[str]) -> str:
        """The line of `cells`; UnicodeEncodeError when the file's encoding cannot write it."""
        line.seek(0)
        line.truncate()
        writer.writerow(cells)
        text_ = line.getvalue()
        text_.encode(export.encoding)  # the whole file is encoded at the end (one byte-order mark, if any)
        return text_

    for header_language in languages:
        bodies[header_language].append(written(columns))
    for row in rows:
        sku = row["sku"]
        texts = row["by_language"] or {}
        if row["price"] is None:
            export.leave_out(sku, "no price")
            continue
        own = texts.get(primary) or [None, None]
        title = _text(own[0]) or _first(texts, chain, 0) or _text(row["own_title"])
        if not title:
            export.leave_out(sku, "no title in any language")
            continue
        description = _text(own[1]) or _first(texts, chain, 1)
        attributes = row["attributes"] or {}
        cells = [""] * len(columns)
        for name, i in position.items():
            if name not in _FIELD_COLUMNS:
                cells[i] = escape_cell(_attribute(name, attributes.get(name)))
        availability = _text(row["availability"]).lower()
        cells[position["id"]] = escape_cell(sku.strip())
        cells[position["availability"]] = AVAILABILITY.get(availability, "")
        cells[position["price"]] = _price(row["price"], (row["currency"] or settings.currency).strip())
        cells[position["brand"]] = escape_cell(_text(row["brand"]))
        cells[position["gtin"]] = _gtin(row["gtin14"], attributes.get("other_gtins"))
        cells[position["mpn"]] = escape_cell(_text(row["mpn"]))
        cells[position["quantity"]] = "" if row["quantity"] is None else str(row["quantity"])
        lines: dict[str, str] = {}
        try:
            for language in languages:
                if language == primary:
                    line_title, line_description = title, description
                else:
                    theirs = texts.get(language) or [None, None]
                    line_title, line_description = _text(theirs[0]), _text(theirs[1])
                    if not line_title and not line_description:
                        continue
                cells[position["title"]] = escape_cell(line_title)
                cells[position["description"]] = escape_cell(line_description)
                lines[language] = written(cells)
        except UnicodeEncodeError as exc:
            export.leave_out(sku, f"text {export.encoding} cannot write", f" ({exc.object[exc.start:exc.end]!r})")
            continue
        for language, data in lines.items():
            bodies[language].append(data)
            counts[language] += 1
    for language in languages:
        name = pattern.format(store=store, language=language)
        data = "".join(bodies.pop(language)).encode(export.encoding)
        export.files.append(FeedFile(language, name, counts[language], data))
    export.products = counts[primary]
    return export


# ---------------------------------------------------------------------------------------- the export
def build_feed(conn: Connection, store: str, settings: ExportSettings) -> CatalogExport:
    """The store's feed files from the warehouse, in the transaction of `conn` (REPEATABLE READ makes
    the three reads one snapshot)."""
    found = conn.execute(query_beside(__file__, "catalog_export_languages.sql"), {"store": store}).first()
    if found is None:
        raise MarketsyncError(f"no store '{store}'")
    fallback = list(found.language_fallback or [])
    languages, _ = choose_languages(list(found.languages or []), fallback, settings)
    columns = attribute_columns(conn.execute(query_beside(__file__, "catalog_export_attributes.sql"),
                                             {"store": store}).scalars())
    result = conn.execution_options(yield_per=_YIELD_ROWS).execute(
        query_beside(__file__, "catalog_export_rows.sql"), {"store": store})
    return write_feed(result.mappings(), store, languages, fallback, columns, settings)


def export_catalog(engine: Engine, store: str, *, vault: CredentialVault | None = None,
                   out: str | Path | None = None) -> CatalogExport:
    """Write the store's catalog as its Letzshop product feed and deliver every file to the account's
    `catalog_export.location`, or to the folder `out`; returns the figures. Raises a MarketsyncError
    (a DeliveryError, transient or not, when a file could not be delivered)."""
    started = time.perf_counter()
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            try:
                account: Account | None = get_account(conn, store, "letzshop")
            except MarketsyncError:
                if out is None:
                    raise
                account = None
            settings = ExportSettings.of(account)
            if account is None or out is not None:
                target = DeliveryTarget(str(Path(out or ".").resolve()), operator_folder=True)
            else:
                target = _target(conn, account, settings, vault)
            export = build_feed(conn, store, settings)
    for feed in export.files:
        # The same bytes under the same name are the same delivery, whichever run sends them.
        digest = hashlib.sha256(feed.data).hexdigest()[:40]
        delivery = deliver_file(target, feed.filename, feed.data,
                                idempotency_key=f"letzshop-catalog-{store}-{feed.language}-{digest}",
                                content_type=f"text/tab-separated-values; charset={settings.encoding}")
        feed.location = delivery.location
    export.seconds = round(time.perf_counter() - started, 3)
    return export


def configured_location(engine: Engine, store: str) -> str | None:
    """The store's catalog export location as it may be shown, or None when it has none."""
    with engine.begin() as conn:
        location = ExportSettings.of(get_account(conn, store, "letzshop")).location
    return describe_location(location) if location else None


# ---------------------------------------------------------------------------------------- the asset
@asset(
    key=CATALOG_FEED,
    partitions_def=letzshop_accounts,
    group_name="catalog",
    owners=OWNERS,
    kinds={"letzshop", "postgres", "csv"},
    automation_condition=AutomationCondition.on_cron(EXPORT_CRON, cron_timezone="Europe/Berlin"),
    retry_policy=RetryPolicy(max_retries=2, delay=60, backoff=Backoff.EXPONENTIAL, jitter=Jitter.FULL),
)
def letzshop_catalog_feed(context: AssetExecutionContext, warehouse: Warehouse,
                          vault: CredentialVault) -> MaterializeResult:
    """The store's catalog as its Letzshop product feed: one Google-Shopping TSV per language (the
    columns, languages and encodings the Letzshop feed import reads), delivered to the account's
    `catalog_export.location` (a folder, FTP(S), SFTP or HTTP PUT, like the inventory file).

    Daily at 05:00 (Europe/Berlin) by `AutomationCondition.on_cron("0 5 * * *")`, for every store
    partition, and on demand by `marketsync catalog export STORE letzshop`. A store without an export
    location is left alone (nothing is written; the run says so). Products without a price or a title,
    or with text the file's encoding cannot write, are left out and counted by reason."""
    store = context.partition_key
    with worded_failure():
        location = configured_location(warehouse.engine, store)
        if location is None:
            context.log.info(f"{store} has no {SETTING}.location: no Letzshop product feed is exported")
            return MaterializeResult(metadata={"dagster/row_count": 0, "delivered_to": "nowhere (no location)"})
        export = export_catalog(warehouse.engine, store, vault=vault)
    if export.left_out:
        context.log.warning(f"{sum(export.left_out.values())} products left out of the feed; "
                            f"first: {export.examples[0]}")
    return MaterializeResult(metadata={**export.metadata(), "delivered_to": location})


letzshop_catalog_feed_assets = [letzshop_catalog_feed]
