"""Pushed feed items: what a supplier may send, how it maps to the canonical catalog, and how it lands.

An item is Jetti-shaped (its inventory-feed variant fields), keyed by the supplier's `externalId`:

| item field                         | canonical                                              |
|------------------------------------|--------------------------------------------------------|
| externalId (required)              | marketplace_products.external_id                       |
| vendorSku                          | sku                                                    |
| barcode                            | gtin14 (GS1 check digit verified; a bad one is refused)|
| mpn, brand                         | mpn, brand                                             |
| inventoryQuantity                  | quantity, and availability (in stock / out of stock)   |
| price (or retailPrice), currency   | price (Decimal), currency (default: the feed's)        |
| costPrice, compareAtPrice          | attributes.cost_price, attributes.compare_at_price     |
| grams, handle, productType, tags,  | attributes.grams, .handle, .product_category, .tags,   |
| countryOfOrigin, hsCode,           | .country_of_origin, .hs_code, .inventory_policy        |
| inventoryPolicy                    |                                                        |
| name (or title), description       | translation in `language` (default: the feed's)        |
| translations: {"de": {"name", "description"}, ...} | one translation per language           |
| updatedAt (or inventoryUpdatedAt)  | source_updated_at: the staleness clock                 |

Partial updates, as Jetti's stock-only parse-webhook sends them, are the normal case: a field the item
leaves out keeps its stored value, an explicit null clears it. Every item carries a time (its
`updatedAt`, else when we received it); an item older than what we hold loses whole, so the catalog
always ends at the newest update whatever order deliveries arrive in. All writes go through
CatalogWriter, whose merge refuses stale rows too.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection

from marketsync.assets.catalog.canonical import CatalogWriter
from marketsync.assets.catalog.gtin import normalize_gtin
from marketsync.resources.scrubbing import excerpt
from marketsync.resources.sql_files import query_beside

# An updatedAt this far ahead of our clock is refused: a sender's clock or time-zone bug would
# otherwise pin the record, and every later honest update would lose as "stale".
FUTURE_TOLERANCE = timedelta(minutes=5)
_MAX_TEXT = 255
_MAX_PRICE = Decimal("1e10")  # numeric(14, 4)
_INT32 = 2**31

_TEXT_COLUMNS = {"vendorSku": "sku", "mpn": "mpn", "brand": "brand"}
_PRICE_ATTRIBUTES = {"costPrice": "cost_price", "compareAtPrice": "compare_at_price"}
_PASSTHROUGH_ATTRIBUTES = {"grams": "grams", "handle": "handle", "productType": "product_category", "tags": "tags",
                           "countryOfOrigin": "country_of_origin", "hsCode": "hs_code",
                           "inventoryPolicy": "inventory_policy"}


@dataclass(frozen=True)
class FeedDefaults:
    """What an item that does not say takes from its feed (ops.catalog_sources.settings)."""

    language: str = "en"
    currency: str = "EUR"

    @classmethod
    def from_settings(cls, settings: dict[str, Any] | None) -> FeedDefaults:
        settings = settings or {}
        language = str(settings.get("default_language") or "").lower()
        currency = str(settings.get("currency") or "").upper()
        # A malformed setting falls back rather than failing every delivery at the database's checks.
        return cls(language=language if len(language) == 2 and language.isascii() and language.isalpha() else "en",
                   currency=currency if len(currency) == 3 and currency.isascii() and currency.isalpha() else "EUR")


@dataclass(frozen=True)
class Problem:
    """One reason an item was refused, for the sender: which item, which field, what is wrong."""

    index: int
    field: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "message": self.message}


class ItemsInvalid(Exception):
    """Items a delivery cannot be accepted with; nothing of the delivery is written."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"item {first.index}, {first.field}: {first.message}{more}")


@dataclass(frozen=True)
class PushItem:
    """A validated item: only the fields it sent (None = clear), with the time that orders it."""

    external_id: str
    updated_at: datetime
    columns: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    translations: dict[str, dict[str, str | None]] = field(default_factory=dict)


# ----------------------------------------------------------------------------------------- parsing
class _Fields:
    """Reads one raw item, collecting every problem instead of stopping at the first."""

    def __init__(self, raw: dict[str, Any], index: int):
        self.raw, self.index, self.problems = raw, index, []

    def bad(self, name: str, message: str) -> None:
        self.problems.append(Problem(self.index, name, message))

    def text(self, name: str, limit: int = _MAX_TEXT) -> str | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            self.bad(name, "must be a string")
            return None
        value = str(value).strip()
        if len(value) > limit:
            self.bad(name, f"is longer than {limit} characters")
            return None
        return value or None

    def money(self, name: str) -> Decimal | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
            self.bad(name, "must be a number or a numeric string")
            return None
        try:
            # repr() of a float is the shortest text that reads back as it, so 9.99 stays 9.99.
            amount = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
        except InvalidOperation:
            self.bad(name, f"{excerpt(value)} is not a number")
            return None
        if not amount.is_finite() or amount < 0 or amount >= _MAX_PRICE:
            self.bad(name, "must be at least 0 and below 10,000,000,000")
            return None
        return amount.quantize(Decimal("0.0001"))

    def quantity(self, name: str) -> int | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            # ASCII digits after at most one sign: str.isdigit() also takes "²" and "١", which int() refuses
            # or reads, and int() of thousands of digits is refused by Python itself.
            text = value.strip()
            digits = text[1:] if text.startswith("-") else text
            if digits.isascii() and digits.isdigit():
                if len(digits) > 12:
                    self.bad(name, "is out of range")
                    return None
                value = int(text)
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.bad(name, "must be a whole number")
            return None
        if not -_INT32 <= value < _INT32:
            self.bad(name, "is out of range")
            return None
        return value

    def timestamp(self, name: str, received_at: datetime) -> datetime | None:
        value = self.raw.get(name)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            self.bad(name, f"{excerpt(value)} is not an ISO 8601 date-time")
            return None
        try:
            # Kept in UTC: Python reads offsets up to a day, Postgres stores them only up to 15:59.
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        except OverflowError:  # year 1 or 9999 pushed over the edge by its offset
            self.bad(name, f"{excerpt(value)} is out of range")
            return None
        if moment > received_at + FUTURE_TOLERANCE:
            ahead = int((moment - received_at).total_seconds())
            self.bad(name, f"is {ahead} s ahead of our clock; send UTC or a date-time with its offset")
            return None
        return moment


def _language(fields: _Fields, name: str, value: Any) -> str | None:
    if not (isinstance(value, str) and len(value) == 2 and value.isascii() and value.isalpha()):
        fields.bad(name, "must be a two-letter language code such as 'de'")
        return None
    return value.lower()


def _title(fields: _Fields, values: dict[str, Any], where: str) -> tuple[bool, str | None]:
    """(given, value) of name/title: the two are synonyms, and must agree when both are sent."""
    given = [key for key in ("name", "title") if key in values]
    if not given:
        return False, None
    names = {key: values[key] for key in given}
    for key, value in names.items():
        if value is not None and not isinstance(value, str):
            fields.bad(f"{where}{key}", "must be a string")
            return False, None
    if len(set(names.values())) > 1:
        fields.bad(f"{where}name", "name and title differ; send one of them")
        return False, None
    value = next(iter(names.values()))
    return True, (value.strip() or None) if value is not None else None


def _description(fields: _Fields, values: dict[str, Any], where: str) -> tuple[bool, str | None]:
    if "description" not in values:
        return False, None
    value = values["description"]
    if value is not None and not isinstance(value, str):
        fields.bad(f"{where}description", "must be a string")
        return False, None
    return True, value


def parse_item(raw: Any, received_at: datetime, defaults: FeedDefaults, index: int = 0) -> PushItem:
    """Validate one raw item; raise ItemsInvalid with every problem found."""
    if not isinstance(raw, dict):
        raise ItemsInvalid([Problem(index, "item", "must be a JSON object")])
    fields = _Fields(raw, index)
    external_id = fields.text("externalId")
    if external_id is None and not any(p.field == "externalId" for p in fields.problems):
        fields.bad("externalId", "is required")
    # (Each part records its problems in `fields`, in this order: the order they are reported in.)
    columns = _columns(fields, raw)
    attributes = _attributes(fields, raw)
    translations = _translations(fields, raw, defaults)
    updated_at = _updated_at(fields, raw, received_at)
    if fields.problems:
        raise ItemsInvalid(fields.problems)
    return PushItem(external_id, updated_at, columns, attributes, translations)


def _columns(fields: _Fields, raw: dict[str, Any]) -> dict[str, Any]:
    """The canonical columns the item sends: identifiers, stock (with availability), price, currency."""
    columns: dict[str, Any] = {}
    for name, column in _TEXT_COLUMNS.items():
        if name in raw:
            columns[column] = fields.text(name)
    if "barcode" in raw:
        barcode = fields.text("barcode", limit=64)
        gtin = normalize_gtin(barcode)
        if gtin.problem:
            fields.bad("barcode", gtin.problem)
        columns["gtin14"] = gtin.gtin14
    if "inventoryQuantity" in raw:
        quantity = fields.quantity("inventoryQuantity")
        columns["quantity"] = quantity
        columns["availability"] = None if quantity is None else "in stock" if quantity > 0 else "out of stock"
    price_key = "price" if "price" in raw else "retailPrice" if "retailPrice" in raw else None
    if price_key:
        columns["price"] = fields.money(price_key)
    if "currency" in raw:
        currency = fields.text("currency")
        if currency is not None and not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
            fields.bad("currency", "must be a three-letter ISO 4217 code such as 'EUR'")
        columns["currency"] = currency.upper() if currency else None
    return columns


def _attributes(fields: _Fields, raw: dict[str, Any]) -> dict[str, Any]:
    """The attributes the item sends: its other prices, then the fields kept as they are."""
    attributes: dict[str, Any] = {}
    for name, key in _PRICE_ATTRIBUTES.items():
        if name in raw:
            amount = fields.money(name)
            attributes[key] = None if amount is None else str(amount.normalize())
    for name, key in _PASSTHROUGH_ATTRIBUTES.items():
        if name in raw:
            value = raw[name]
            if not (value is None or isinstance(value, (str, int, float))
                    or (isinstance(value, list) and all(isinstance(v, str) for v in value))):
                fields.bad(name, "must be a string, a number or a list of strings")
            else:
                attributes[key] = value
    return attributes


def _translations(fields: _Fields, raw: dict[str, Any], defaults: FeedDefaults) -> dict[str, dict[str, str | None]]:
    """{language: {title, description}} of what the item sends, in its language and in `translations`."""
    language = defaults.language
    if "language" in raw:
        language = _language(fields, "language", raw["language"]) or language
    translations: dict[str, dict[str, str | None]] = {}
    for lang, values, where in _translation_sources(fields, raw, language):
        given_title, title = _title(fields, values, where)
        given_description, description = _description(fields, values, where)
        entry = translations.setdefault(lang, {})
        if given_title:
            entry["title"] = title
        if given_description:
            entry["description"] = description
    return {lang: entry for lang, entry in translations.items() if entry}


def _updated_at(fields: _Fields, raw: dict[str, Any], received_at: datetime) -> datetime:
    """The item's time: its updatedAt, else its inventoryUpdatedAt, else when we received it."""
    for name in ("updatedAt", "inventoryUpdatedAt"):
        if name in raw and raw[name] is not None:
            return fields.timestamp(name, received_at) or received_at
    return received_at


def _translation_sources(fields: _Fields, raw: dict[str, Any], language: str):
    """(language, fields, where) for the item's own name/description, then each of `translations`."""
    yield language, raw, ""
    extra = raw.get("translations")
    if extra is None:
        return
    if not isinstance(extra, dict):
        fields.bad("translations", "must be an object of language -> {name, description}")
        return
    for lang, values in extra.items():
        code = _language(fields, f"translations.{lang}", lang)
        if code is None:
            continue
        if not isinstance(values, dict):
            fields.bad(f"translations.{lang}", "must be an object with name and/or description")
            continue
        yield code, values, f"translations.{lang}."


def parse_items(raw_items: list[Any], received_at: datetime, defaults: FeedDefaults) -> list[PushItem]:
    """Validate every item of a delivery; raise ItemsInvalid listing the problems of all of them."""
    items, problems = [], []
    for index, raw in enumerate(raw_items):
        try:
            items.append(parse_item(raw, received_at, defaults, index))
        except ItemsInvalid as invalid:
            problems.extend(invalid.problems)
    if problems:
        raise ItemsInvalid(problems)
    return items


# ----------------------------------------------------------------------------- the stored record
@dataclass(frozen=True)
class StoredRecord:
    """A product of the feed as the canonical catalog holds it."""

    external_id: str
    gtin14: str | None = None
    sku: str | None = None
    mpn: str | None = None
    brand: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    availability: str | None = None
    quantity: int | None = None
    product_type: str = "physical"
    platform: str | None = None
    regions: list[str] | None = None
    languages: list[str] | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    source_updated_at: datetime | None = None
    translations: dict[str, dict[str, str | None]] = field(default_factory=dict)

    def product_row(self) -> tuple:
        """The tuple CatalogWriter stages, in PRODUCT_COLUMNS order."""
        return (self.external_id, self.gtin14, self.sku, self.mpn, self.brand, self.price, self.currency,
                self.availability, self.quantity, self.product_type, self.platform, self.regions,
                self.languages, json.dumps(self.attributes, sort_keys=True), self.source_updated_at)

    def translation_rows(self) -> list[tuple]:
        return [(self.external_id, lang, t.get("title"), t.get("description"))
                for lang, t in sorted(self.translations.items())]

    def as_json(self) -> dict[str, Any]:
        """The record as the intake answers it (Jetti's field names)."""
        attributes = dict(self.attributes)
        return {
            "externalId": self.external_id,
            "vendorSku": self.sku,
            "barcode": self.gtin14,
            "mpn": self.mpn,
            "brand": self.brand,
            "inventoryQuantity": self.quantity,
            "availability": self.availability,
            "price": _money_text(self.price),
            "currency": self.currency,
            "costPrice": attributes.pop("cost_price", None),
            "compareAtPrice": attributes.pop("compare_at_price", None),
            "translations": {lang: {"name": t.get("title"), "description": t.get("description")}
                             for lang, t in sorted(self.translations.items())},
            "attributes": attributes,
            "updatedAt": _iso(self.source_updated_at),
        }


def _money_text(amount: Decimal | None) -> str | None:
    if amount is None:
        return None
    text_value = format(amount.normalize(), "f")
    whole, _, cents = text_value.partition(".")
    return f"{whole}.{cents.ljust(2, '0')}"


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def read_records(conn: Connection, source_id: int, external_ids: list[str]) -> dict[str, StoredRecord]:
    """The stored records of these external ids (those that exist), with their translations."""
    if not external_ids:
        return {}
    rows = conn.execute(query_beside(__file__, "stored_records.sql"),
                        {"s": source_id, "ids": list(external_ids)}).mappings().all()
    return {row["external_id"]: StoredRecord(**row) for row in rows}


def _lock_external_ids(conn: Connection, source_id: int, external_ids: list[str]) -> None:
    # Row locks cannot cover a product that does not exist yet, and two deliveries creating one
    # product at once must not both think they are first: a transaction lock per (feed, externalId),
    # taken in one order so that two batches never wait on each other in a circle.
    conn.execute(query_beside(__file__, "lock_external_ids.sql"), {"s": source_id, "ids": sorted(set(external_ids))})


def _fold(base: StoredRecord | None, item: PushItem, defaults: FeedDefaults) -> StoredRecord:
    """The record after `item`: its fields over the stored ones (merge-patch), stamped with its time."""
    record = base or StoredRecord(item.external_id)
    attributes = dict(record.attributes)
    for key, value in item.attributes.items():
        if value is None:
            attributes.pop(key, None)
        else:
            attributes[key] = value
    translations = {lang: dict(t) for lang, t in record.translations.items()}
    for lang, patch in item.translations.items():
        translations.setdefault(lang, {"title": None, "description": None}).update(patch)
    record = replace(record, **item.columns, attributes=attributes, translations=translations,
                     source_updated_at=item.updated_at)
    if record.price is not None and record.currency is None:
        record = replace(record, currency=defaults.currency)
    return record


@dataclass
class ApplyResult:
    """What applying a delivery's items did: applied + stale = items."""

    items: int = 0
    applied: int = 0
    stale: int = 0
    products_written: int = 0


def apply_items(conn: Connection, source_id: int, items: list[PushItem], defaults: FeedDefaults) -> ApplyResult:
    """Upsert items by externalId through CatalogWriter, inside the caller's transaction.

    Items of one externalId are applied oldest first; one older than the stored record (or than an
    item already applied) is skipped as stale, so the result is the newest update whatever the order
    the items came in. Applying the same items again writes nothing (the merge skips unchanged rows).
    """
    result = ApplyResult(items=len(items))
    by_id: dict[str, list[tuple[int, PushItem]]] = defaultdict(list)
    for position, item in enumerate(items):
        by_id[item.external_id].append((position, item))
    ids = list(by_id)
    _lock_external_ids(conn, source_id, ids)
    stored = read_records(conn, source_id, ids)
    records: list[StoredRecord] = []
    for external_id, entries in by_id.items():
        record = stored.get(external_id)
        newest = record.source_updated_at if record else None
        changed = False
        for _, item in sorted(entries, key=lambda entry: (entry[1].updated_at, entry[0])):
            if newest is not None and item.updated_at < newest:
                result.stale += 1
                continue
            record, newest, changed = _fold(record, item, defaults), item.updated_at, True
            result.applied += 1
        if changed:
            records.append(record)
    if records:
        writer = CatalogWriter(conn, source_id)
        writer.write_products(r.product_row() for r in records)
        writer.write_translations(row for r in records for row in r.translation_rows())
        merged = writer.merge()
        result.products_written = merged.loaded
    return result
