"""Feed mappings: which field of a supplier's record feeds which column of the canonical catalog.

A mapping is configuration (JSON, stored per source in ops.catalog_sources.mapping and versioned in
ops.feed_mapping_versions), so a new supplier is onboarded without code. For example, for a CSV feed:

    {
      "external_id": "id",                        # required: the supplier's own id of the product
      "gtin": "ean", "sku": "sku", "mpn": "mpn", "brand": "brand",
      "price": "price", "currency": "currency", "availability": "availability", "quantity": "stock",
      "product_type": "type", "platform": "platform", "regions": "regions", "languages": "languages",
      "source_updated_at": "updated_at",
      "title": {"en": "title_en", "de": "title_de"},
      "description": {"en": "description_en"},
      "attributes": ["color", "size"],            # or {"colour": "color"}: kept in attributes
      "defaults": {"currency": "EUR"},            # used when the record has no value
      "decimal_comma": true,                      # prices written 1.234,50
      "gtin_type": "ean",                         # the barcode type, if the supplier says
      "list_separator": ",",                      # regions and languages given as one text field
      "required": ["sku", "quantity"]             # a record without one of these is quarantined
    }

A mapped price is always required (unless "defaults" gives one): a record whose price is empty or null
is quarantined with that reason, never loaded as a product without a price, which would wipe the price
an earlier import stored.

Field references depend on the format: a column name of the header row (CSV, TSV), an XPath 1.0
expression relative to the record element (XML; prefixes from "namespaces"), a dotted path into the
record object (JSON: "price.amount", "images.0.url"). Reader keys sit in the same object: "delimiter",
"quotechar", "quoting" (CSV/TSV); "record" (the record element, e.g. "s:products/s:product") and
"namespaces" (XML); "record" (where the records are, e.g. "data.items"; empty for a top-level array)
and "json_lines" (NDJSON) for JSON.

A mapped record becomes a tuple in `PRODUCT_COLUMNS` order plus translation tuples (external_id,
language, title, description), or is rejected with a reason worded for the merchant: no external id,
a GTIN whose check digit is wrong, a price that is not a number, a negative stock, and so on.

This runs once per feed row, a million times for a large feed, so `compile_mapping` turns a mapping
into one Python function per (mapping, format, header), generated as source code with every decision
taken once: which fields exist, where they are, which defaults apply. Only constants chosen by
marketsync itself appear in that code; every value from the mapping (column names, paths, defaults)
is passed in as a bound constant, never spliced into the source.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from operator import attrgetter, itemgetter
from typing import Any

import orjson
from lxml import etree

from assets.catalog.columns import PRODUCT_COLUMNS
from assets.catalog.gtin import normalize_gtin
from resources.errors import MarketsyncError

FORMATS = ("csv", "tsv", "xml", "json")

# Canonical columns a mapping may feed, by how their values are read.
TEXT_COLUMNS = ("sku", "mpn", "brand", "availability", "platform")
SCALAR_COLUMNS = ("external_id", "gtin", "sku", "mpn", "brand", "price", "currency", "availability", "quantity",
                  "product_type", "platform", "regions", "languages", "source_updated_at")
TRANSLATED = ("title", "description")
OPTION_KEYS = ("defaults", "decimal_comma", "gtin_type", "list_separator", "attributes", "required")
READER_KEYS = ("delimiter", "quotechar", "quoting", "record", "namespaces", "json_lines")
KNOWN_KEYS = SCALAR_COLUMNS + TRANSLATED + OPTION_KEYS + READER_KEYS

PRODUCT_TYPES = {"physical": "physical", "digital": "digital", "virtual": "digital", "download": "digital",
                 "downloadable": "digital", "key": "digital"}
CURRENCY_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "CHF": "CHF", "Fr.": "CHF", "zł": "PLN", "kr": "SEK"}
PRICE_LIMIT = Decimal(10) ** 10       # numeric(14, 4)
_PRICE_STEP = Decimal("0.0001")
QUANTITY_LIMIT = 2**31 - 1            # integer
XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"
_LANGUAGE = re.compile(r"^[a-z]{2}$")
# Separates the fields of a record in the one XPath string an XML record's other fields are read with
# (see `simple_xpath`). A private-use character: legal in XML, absent from real feeds, and a record that
# has it anyway is read field by field.
_XML_SEPARATOR = "\ue000"
# The XPath forms read without XPath (see `simple_xpath`): names are ASCII NCNames (a QName with a
# prefix), a predicate compares one attribute with a literal, `[1]` keeps the first of the step's nodes.
_XPATH_SPACE = " \t\r\n"
_NCNAME = r"[A-Za-z_][A-Za-z0-9_.\-]*"
_QNAME = rf"(?:{_NCNAME}:)?{_NCNAME}"
_W = r"[ \t\r\n]*"
_XML_STEP = re.compile(rf"({_QNAME})(?:{_W}\[{_W}@({_QNAME}){_W}={_W}('[^']*'|\"[^\"]*\"){_W}\])?"
                       rf"({_W}\[{_W}1{_W}\])?")
_XML_ATTRIBUTE = re.compile(rf"@({_QNAME})")
_XML_SLASH = re.compile(rf"{_W}/{_W}")
_TAG = attrgetter("tag")


class Rejected(Exception):
    """A record that cannot become a catalog row; the message is the reason for the quarantine."""


@dataclass
class Mapped:
    """One record mapped: its product tuple (PRODUCT_COLUMNS order) and translation tuples."""

    product: tuple
    translations: list[tuple] = field(default_factory=list)


# ---------------------------------------------------------------- validating a mapping

def validate_mapping(mapping: Any, fmt: str | None = None) -> dict[str, Any]:
    """Check a mapping and return it; MarketsyncError listing every problem found otherwise."""
    problems = mapping_problems(mapping, fmt)
    if problems:
        raise MarketsyncError("the feed mapping is not valid: " + "; ".join(problems))
    return mapping


def mapping_problems(mapping: Any, fmt: str | None = None) -> list[str]:
    """Everything wrong with a mapping, one sentence each (empty when it is valid)."""
    if not isinstance(mapping, dict):
        return ["a mapping is a JSON object naming the source field of each catalog column"]
    problems: list[str] = []
    unknown = sorted(set(mapping) - set(KNOWN_KEYS))
    if unknown:
        problems.append(f"unknown keys {', '.join(unknown)} (known: {', '.join(KNOWN_KEYS)})")
    if fmt is not None and fmt not in FORMATS:
        problems.append(f"unknown format '{fmt}' (known: {', '.join(FORMATS)})")
    if not _is_ref(mapping.get("external_id")):
        problems.append("'external_id' is required: the field holding the supplier's id of the product")
    for column in SCALAR_COLUMNS:
        if column in mapping and not _is_ref(mapping[column]):
            problems.append(f"'{column}' must name a source field (a non-empty string)")
    for column in TRANSLATED:
        value = mapping.get(column)
        if value is None:
            continue
        if not isinstance(value, dict) or not value:
            problems.append(f"'{column}' must map languages to source fields, like {{\"en\": \"{column}_en\"}}")
            continue
        for language, ref in value.items():
            if not isinstance(language, str) or not _LANGUAGE.match(language):
                problems.append(f"'{column}' language '{language}' must be a two-letter lowercase code (en, de, fr)")
            if not _is_ref(ref):
                problems.append(f"'{column}.{language}' must name a source field")
    attributes = mapping.get("attributes")
    if attributes is not None:
        if isinstance(attributes, list):
            if not all(_is_ref(a) for a in attributes):
                problems.append("'attributes' must list source fields (non-empty strings)")
        elif isinstance(attributes, dict):
            if not all(isinstance(k, str) and k and _is_ref(v) for k, v in attributes.items()):
                problems.append("'attributes' must map attribute names to source fields")
        else:
            problems.append("'attributes' must be a list of source fields or an object of name: field")
    problems += _default_problems(mapping)
    problems += _required_problems(mapping)
    for key in ("decimal_comma", "json_lines"):
        if key in mapping and not isinstance(mapping[key], bool):
            problems.append(f"'{key}' must be true or false")
    for key in ("gtin_type", "list_separator", "record"):
        if key in mapping and not isinstance(mapping[key], str):
            problems.append(f"'{key}' must be a string")
    if mapping.get("list_separator") == "":
        problems.append("'list_separator' must not be empty")
    for key in ("delimiter", "quotechar"):
        if key in mapping and not (isinstance(mapping[key], str) and len(mapping[key]) == 1
                                   and mapping[key] not in "\r\n"):
            problems.append(f"'{key}' must be a single character")
    if "quoting" in mapping and mapping["quoting"] not in ("minimal", "none"):
        problems.append("'quoting' must be 'minimal' or 'none'")
    namespaces = mapping.get("namespaces")
    if namespaces is not None and not (isinstance(namespaces, dict) and all(
            isinstance(k, str) and k and isinstance(v, str) and v for k, v in namespaces.items())):
        problems.append("'namespaces' must map prefixes to namespace URIs")
    if fmt == "xml" and not problems:
        problems += _xml_problems(mapping)
    if fmt == "json" and not problems:
        problems += [f"JSON path '{ref}' has an empty step" for _name, ref in _refs(mapping)
                     if any(not step for step in ref.split("."))]
    return problems


def _required_problems(mapping: dict) -> list[str]:
    required = mapping.get("required")
    if required is None:
        return []
    if not isinstance(required, list) or not all(isinstance(c, str) for c in required):
        return ["'required' must list catalog columns, like [\"sku\", \"quantity\"]"]
    problems = [f"'required' names '{c}', which is not a catalog column (known: {', '.join(SCALAR_COLUMNS)})"
                for c in required if c not in SCALAR_COLUMNS]
    problems += [f"'required' names '{c}', which the mapping does not map to a source field"
                 for c in required if c in SCALAR_COLUMNS and not _is_ref(mapping.get(c))]
    return problems


def _is_ref(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _default_problems(mapping: dict) -> list[str]:
    defaults = mapping.get("defaults")
    if defaults is None:
        return []
    if not isinstance(defaults, dict):
        return ["'defaults' must be an object of column: value"]
    problems = []
    for column, value in defaults.items():
        if column not in SCALAR_COLUMNS or column in ("external_id", "gtin"):
            problems.append(f"'defaults' cannot set '{column}' (allowed: "
                            f"{', '.join(c for c in SCALAR_COLUMNS if c not in ('external_id', 'gtin'))})")
            continue
        try:
            _convert_default(column, value, mapping)
        except (Rejected, TypeError, ValueError) as exc:
            problems.append(f"default for '{column}' is not valid: {exc}")
    return problems


def _xml_problems(mapping: dict) -> list[str]:
    problems = []
    if not _is_ref(mapping.get("record")):
        problems.append("an XML mapping needs 'record': the record element, like 'products/product'")
    namespaces = _xml_namespaces(mapping)
    for name, ref in _refs(mapping):
        try:
            etree.XPath(ref, namespaces=namespaces)
        except (etree.XPathSyntaxError, etree.XPathError, ValueError) as exc:
            problems.append(f"'{name}' is not a valid XPath expression ('{ref}': {exc})")
    return problems


def _refs(mapping: dict) -> list[tuple[str, str]]:
    """(what, source reference) for every field the mapping reads, in a fixed order."""
    refs = [(column, mapping[column]) for column in SCALAR_COLUMNS if column in mapping]
    for column in TRANSLATED:
        refs += [(f"{column}.{lang}", ref) for lang, ref in (mapping.get(column) or {}).items()]
    refs += [(f"attributes.{name}", ref) for name, ref in _attributes(mapping)]
    return refs


def _attributes(mapping: dict) -> list[tuple[str, str]]:
    attributes = mapping.get("attributes") or []
    if isinstance(attributes, dict):
        return list(attributes.items())
    # A listed field keeps its own name: a column name, a JSON key, or an XPath's last step.
    return [(_attribute_name(ref), ref) for ref in attributes]


def _attribute_name(ref: str) -> str:
    last = re.split(r"[/.]", ref.strip())[-1]
    last = re.sub(r"\[.*\]$", "", last).lstrip("@")
    return last.split(":")[-1] or ref


def _xml_namespaces(mapping: dict) -> dict[str, str]:
    return {"xml": XML_NAMESPACE, **(mapping.get("namespaces") or {})}


# A step of a simple XPath: (Clark tag, (Clark attribute name, value) or None, first_only).
XmlStep = tuple[str, "tuple[str, str] | None", bool]


def simple_xpath(ref: str, namespaces: dict[str, str]) -> tuple[tuple[XmlStep, ...], str | None] | None:
    """The steps and final attribute of an XPath the mapping reads without XPath, None for any other.

    Simple means child steps by name from the record, each optionally filtered by one attribute equal to
    a literal and/or `[1]`, optionally ending in an attribute: `g:id`, `s:attributes/s:color`, `@id`,
    `g:price/@currency`, `s:title[@xml:lang='en']`, `image[@type="main"][1]/@url`, `.` and `./...`.
    Names are QNames of ASCII NCNames, resolved as XPath 1.0 does: a prefix through `namespaces`, no
    prefix meaning no namespace (not the document's default namespace). Returns (steps, attribute) with
    Clark names ("{uri}local"), steps empty for the record itself.
    """
    def clark(qname: str, attribute: bool) -> str | None:
        prefix, _, local = qname.rpartition(":")
        if not prefix:
            return None if attribute and local == "xmlns" else local
        if prefix == "xmlns" or prefix not in namespaces:
            return None
        return f"{{{namespaces[prefix]}}}{local}"

    text = ref.strip(_XPATH_SPACE)
    if text == ".":
        return (), None
    if text.startswith("./"):
        text = text[2:].lstrip(_XPATH_SPACE)
    steps: list[XmlStep] = []
    position = 0
    while True:
        match = _XML_ATTRIBUTE.fullmatch(text, position)
        if match:
            attribute = clark(match[1], True)
            return None if attribute is None else (tuple(steps), attribute)
        match = _XML_STEP.match(text, position)
        if not match:
            return None
        tag = clark(match[1], False)
        predicate = None
        if match[2]:
            name = clark(match[2], True)
            if name is None:
                return None
            predicate = (name, match[3][1:-1])
        if tag is None:
            return None
        steps.append((tag, predicate, bool(match[4])))
        position = match.end()
        if position == len(text):
            return tuple(steps), None
        match = _XML_SLASH.match(text, position)
        if not match:
            return None
        position = match.end()


# How many distinct layouts (tag sequences of an element's children) one compiled mapping remembers per
# element of its paths; a feed with more (records of ever-changing shape) has the rest worked out anew.
_XML_LAYOUTS = 4096


def _xml_layout(tags: Sequence[str], groups: Sequence[str]) -> tuple[dict, Callable[[tuple], tuple]]:
    """Where the wanted children are, for the tag sequences of an element's children: a cache and the
    function that fills it (the cache holds only what the function returns: a pure function of `tags`).

    For a sequence of child tags (comments, PIs and entity references have lxml's non-str tags), the
    layout is (an itemgetter of the position of the first child with each of `tags`, -1 for none, if
    `tags` is not empty; then for each tag of `groups`, a function of the children giving all those with
    that tag as a tuple, last in document order first). The extraction appends None to the children, for
    -1.
    """
    cache: dict[tuple, tuple] = {}

    def layout(child_tags: tuple) -> tuple:
        first: dict[Any, int] = {}
        for position, tag in enumerate(child_tags):
            first.setdefault(tag, position)
        parts: list[Any] = []
        if tags:
            parts.append(itemgetter(*(first.get(tag, -1) for tag in tags)))
        for group in groups:
            positions = [position for position in range(len(child_tags) - 1, -1, -1)
                         if child_tags[position] == group]
            # (itemgetter gives a tuple for two positions or more: a lone child comes twice, harmlessly.)
            parts.append(itemgetter(*positions * (2 if len(positions) == 1 else 1)) if positions else _none)
        found = tuple(parts)
        if len(cache) < _XML_LAYOUTS:
            cache[child_tags] = found
        return found

    return cache, layout


def _none(_children: list) -> tuple:
    return ()


# ---------------------------------------------------------------- converting values

def _text(value: Any) -> str | None:
    """A JSON value as catalog text: strings stripped, numbers as written, nothing for containers."""
    if value is None:
        return None
    if type(value) is str:
        return value.strip() or None
    if type(value) is bool:
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return repr(value) if type(value) is float else str(value)
    raise Rejected(f"expected a text value, got {type(value).__name__}")


_PRICE_JUNK = str.maketrans("", "", " \u00a0\u202f'")


def parse_price(raw: Any, decimal_comma: bool = False) -> tuple[Decimal, str | None]:
    """A supplier's price as (Decimal, currency found in the text or None); Rejected if it is none.

    Accepts "12.50", "12,50", "1.234,50" and "1,234.50" (whichever separator comes last is the decimal
    one), "12.50 EUR", "EUR 12.50", "€12.50". The one ambiguity, a single separator followed by exactly
    three digits ("1.234", "1,234"), is settled by the mapping's decimal_comma: with it the comma is the
    decimal separator and the dot groups thousands; without it, the other way round.
    """
    if type(raw) is float:
        value, currency = Decimal(repr(raw)), None
    elif type(raw) is int:
        value, currency = Decimal(raw), None
    elif type(raw) is not str:
        raise Rejected(f"price {raw!r} is not a number")
    else:
        value, currency = _price_text(raw, decimal_comma)
    if not value.is_finite():
        raise Rejected(f"price '{raw}' is not a number")
    if value < 0:
        raise Rejected(f"price '{raw}' is negative")
    if value >= PRICE_LIMIT or value.quantize(_PRICE_STEP, ROUND_HALF_UP) >= PRICE_LIMIT:
        # (rounded as numeric(14, 4) rounds: half away from zero)
        raise Rejected(f"price '{raw}' is too large")
    return value, currency


def _price_text(raw: str, decimal_comma: bool) -> tuple[Decimal, str | None]:
    text = raw.strip()
    currency = None
    for symbol, code in CURRENCY_SYMBOLS.items():
        if text.startswith(symbol) or text.endswith(symbol):
            currency, text = code, text.replace(symbol, "").strip()
            break
    else:
        head, tail = text[:3], text[-3:]
        if len(text) > 3 and tail.isalpha() and tail.isascii():
            currency, text = tail.upper(), text[:-3].strip()
        elif len(text) > 3 and head.isalpha() and head.isascii():
            currency, text = head.upper(), text[3:].strip()
    text = text.translate(_PRICE_JUNK)
    comma, dot = text.rfind(","), text.rfind(".")
    if comma >= 0 and dot >= 0:
        decimal = "," if comma > dot else "."
    elif comma >= 0:
        decimal = "," if decimal_comma or not _thousands(text, ",") else None
    elif dot >= 0:
        decimal = None if decimal_comma and _thousands(text, ".") else "."
    else:
        decimal = "."
    if decimal == ",":
        text = text.replace(".", "").replace(",", ".")
    elif decimal == ".":
        text = text.replace(",", "")
    else:
        text = text.replace(",", "").replace(".", "")
    if not text or not (text[0].isdigit() or text[0] in "+-.") or "_" in text:
        raise Rejected(f"price '{raw.strip()}' is not a number")
    try:
        return Decimal(text), currency
    except InvalidOperation:
        raise Rejected(f"price '{raw.strip()}' is not a number") from None


def _thousands(text: str, separator: str) -> bool:
    # "1,234" or "12.345.678": every group after a separator has exactly three digits.
    groups = text.split(separator)
    return all(len(g) == 3 and g.isdigit() for g in groups[1:]) and groups[0].lstrip("+-").isdigit()


def parse_quantity(raw: Any) -> int:
    """Stock as a non-negative integer ("5", 5, "5.0"); Rejected otherwise."""
    if type(raw) is int:
        value = raw
    elif type(raw) is float and raw.is_integer():
        value = int(raw)
    elif type(raw) is str:
        text = raw.strip()
        try:
            value = int(text)
        except ValueError:
            try:
                number = Decimal(text)
            except InvalidOperation:
                raise Rejected(f"quantity '{text}' is not a whole number") from None
            if not number.is_finite() or number != number.to_integral_value():
                raise Rejected(f"quantity '{text}' is not a whole number") from None
            value = int(number)
    else:
        raise Rejected(f"quantity {raw!r} is not a whole number")
    if value < 0:
        raise Rejected(f"quantity {value} is negative")
    if value > QUANTITY_LIMIT:
        raise Rejected(f"quantity {value} is too large")
    return value


def parse_currency(raw: Any) -> str:
    text = _text(raw)
    code = CURRENCY_SYMBOLS.get(text, text.upper()) if text else text
    if not (code and len(code) == 3 and code.isascii() and code.isalpha()):
        raise Rejected(f"currency '{raw}' is not a three-letter ISO 4217 code")
    return code


def parse_product_type(raw: Any) -> str:
    text = _text(raw)
    kind = PRODUCT_TYPES.get(text.lower()) if text else None
    if kind is None:
        raise Rejected(f"product type '{raw}' is neither physical nor digital")
    return kind


def parse_timestamp(raw: Any) -> datetime:
    """When the supplier says the record changed: ISO 8601 (a zone-less time is UTC) or Unix seconds."""
    if type(raw) in (int, float) or (type(raw) is str and raw.strip().isdigit()):
        try:
            return datetime.fromtimestamp(float(raw), UTC)
        except (OverflowError, OSError, ValueError):
            raise Rejected(f"timestamp '{raw}' is out of range") from None
    if type(raw) is not str:
        raise Rejected(f"timestamp {raw!r} is not a date and time")
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise Rejected(f"timestamp '{raw.strip()}' is not an ISO 8601 date and time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_list(raw: Any, separator: str) -> list[str] | None:
    if raw is None:
        return None
    items = raw if isinstance(raw, list) else str(raw).split(separator)
    values = [text for text in (_text(item) for item in items) if text]
    return values or None


def _convert_default(column: str, value: Any, mapping: dict) -> Any:
    if value is None:
        return None
    if column == "price":
        return parse_price(value, bool(mapping.get("decimal_comma")))[0]
    if column == "quantity":
        return parse_quantity(value)
    if column == "currency":
        return parse_currency(value)
    if column == "product_type":
        return parse_product_type(value)
    if column in ("regions", "languages"):
        return parse_list(value, mapping.get("list_separator") or ",")
    if column == "source_updated_at":
        return parse_timestamp(value)
    text = _text(value)
    if text is None:
        raise Rejected("empty")
    return text


def pg_array(values: list[str]) -> str:
    """A Postgres text[] literal ({"a","b"}), each element quoted so commas and braces are safe."""
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


# What the ASCII '0' offsets add to the GS1 weighted sum of an n-digit number (check digit included).
_ZERO_OFFSET = {n: 48 * ((n + 1) // 2 + 3 * (n // 2)) for n in (8, 12, 13, 14)}


def _gtin(raw: Any, hint: str | None) -> str | None:
    """The GTIN-14 of a barcode, None if absent; Rejected with normalize_gtin's reason if invalid.
    A bare, valid GTIN-8/12/13/14 (nearly every row) is checked here, as normalize_gtin's own fast
    path does, without building a Gtin object."""
    if type(raw) is str and hint is None:
        n = len(raw)
        if n in _ZERO_OFFSET and raw.isdigit() and raw.isascii():
            codes = raw.encode()
            if (sum(codes[-1::-2]) + 3 * sum(codes[-2::-2]) - _ZERO_OFFSET[n]) % 10 == 0 and raw.strip("0"):
                return raw.rjust(14, "0")
    text = raw if type(raw) is str else _text(raw)
    if not text:
        return None
    code = normalize_gtin(text, hint)
    if code.problem:
        raise Rejected(f"invalid GTIN: {code.problem}")
    return code.gtin14


def _known(cache: dict, raw: Any, parse: Callable[[Any], str]) -> str:
    """parse(raw), remembered: currencies and product types are a handful of values per feed."""
    value = parse(raw)
    if len(cache) < 1000 and type(raw) is str:
        cache[raw] = value
    return value


# A price Postgres reads as it stands: digits, then optionally a decimal part (numeric(14, 4) holds
# ten integer digits). With decimal_comma the separator is a comma, turned into a dot.
# At most four decimals: what the column keeps, so Postgres never rounds 9999999999.99995 up past it.
_PLAIN_DECIMAL = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,4})?")
_PLAIN_DECIMAL_COMMA = re.compile(r"[0-9]{1,10}(?:,[0-9]{1,4})?")


def price_text(raw: Any, decimal_comma: bool = False) -> tuple[str, str | None]:
    """parse_price, as COPY text."""
    value, currency = parse_price(raw, decimal_comma)
    return str(value), currency


# An ISO 8601 timestamp in the extended form both Python and Postgres read the same way, with the time
# of day in range; the date is checked against the calendar separately (once per distinct date).
_ISO_TIMESTAMP = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-](?:0[0-9]|1[0-4])(?::?[0-5][0-9])?)?"
).fullmatch
_VALID_DATES: dict[str, bool] = {}


def timestamp_text(raw: Any) -> str:
    """parse_timestamp, as COPY text (a zone-less time is read as UTC: the load runs with TimeZone UTC)."""
    if type(raw) is str:
        text = raw.strip()
        match = _ISO_TIMESTAMP(text)
        if match:
            day = match.group(1)
            valid = _VALID_DATES.get(day)
            if valid is None:
                try:
                    datetime.fromisoformat(day)
                    valid = True
                except ValueError:
                    valid = False
                if len(_VALID_DATES) < 100_000:
                    _VALID_DATES[day] = valid
            if not valid:
                raise Rejected(f"timestamp '{text}' is not a valid date and time")
            return text
    return parse_timestamp(raw).isoformat()


def _attributes_json(attributes: dict[str, Any]) -> str:
    try:
        return orjson.dumps(attributes, default=_json_default).decode()
    except orjson.JSONEncodeError as exc:  # an integer beyond 64 bits, say
        raise Rejected(f"an attribute cannot be stored as JSON: {exc}") from None


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError


def copy_escape(value: str) -> str:
    """One field in COPY text format (backslash, tab, newline and carriage return escaped)."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def escaped_line(fields: Sequence[str]) -> str:
    """A COPY text line from fields that may need escaping (the rare, slow path)."""
    return "\t".join(copy_escape(f) for f in fields) + "\n"


# ---------------------------------------------------------------- compiling

@dataclass
class CompiledMapping:
    """A mapping made ready for one feed: `map` for people (preview, tests), `copy_line` for the loader.

    map(record) -> Mapped; copy_line(record) -> one line of COPY text for the feed stage (columns
    `stage_columns`). Both raise Rejected with the reason when the record cannot be loaded.
    extract(record) -> {field: raw value} as read from the record before any conversion ('title.en',
    'attributes.color', ...; None for a missing or empty value), for tests and previews.
    """

    mapping: dict[str, Any]
    fmt: str
    languages: tuple[str, ...]
    map: Callable[[Any], Mapped]
    copy_line: Callable[[Any], str]
    source: str
    extract: Callable[[Any], dict[str, Any]] | None = None

    @property
    def stage_columns(self) -> tuple[str, ...]:
        return stage_columns(len(self.languages))


def stage_columns(language_count: int) -> tuple[str, ...]:
    """The feed stage's columns: the product columns, then a title and description per language."""
    return PRODUCT_COLUMNS + tuple(f"{kind}_{i}" for i in range(1, language_count + 1)
                                   for kind in ("title", "description"))


def compile_mapping(mapping: dict[str, Any], fmt: str, header: Sequence[str] | None = None) -> CompiledMapping:
    """Validate `mapping` for format `fmt` and compile it (for CSV/TSV against the feed's `header`)."""
    validate_mapping(mapping, fmt)
    if fmt in ("csv", "tsv"):
        if header is None:
            raise MarketsyncError("a CSV mapping is compiled against the feed's header row")
        return _Generator(mapping, fmt, list(header)).build()
    return _Generator(mapping, fmt, None).build()


class _Generator:
    """Writes the source of the two record functions for one mapping (see the module docstring)."""

    def __init__(self, mapping: dict[str, Any], fmt: str, header: list[str] | None):
        self.mapping = mapping
        self.fmt = fmt
        self.header = header
        self.textual = fmt != "json"  # CSV and XML give str (or None); JSON any JSON value
        self.consts: dict[str, Any] = {
            "Rejected": Rejected, "Mapped": Mapped, "_D": Decimal, "_InvalidOperation": InvalidOperation,
            "_parse_price": parse_price, "_parse_quantity": parse_quantity, "_parse_currency": parse_currency,
            "_parse_product_type": parse_product_type, "_parse_timestamp": parse_timestamp,
            "_parse_list": parse_list, "_text": _text, "_gtin": _gtin, "_dumps": orjson.dumps,
            "_pg_array": pg_array, "_escaped_line": escaped_line, "_ZERO": Decimal(0), "_LIMIT": PRICE_LIMIT,
            "_QLIMIT": QUANTITY_LIMIT, "_known": _known, "_price_text": price_text,
            "_timestamp_text": timestamp_text, "_attributes_json": _attributes_json,
        }
        self.refs = _refs(mapping)
        self.slots: dict[str, int] = {}  # what -> index into the extracted values
        self.languages = tuple(dict.fromkeys(
            [*(mapping.get("title") or {}), *(mapping.get("description") or {})]))

    def const(self, value: Any) -> str:
        name = f"K{len(self.consts)}"
        self.consts[name] = value
        return name

    # -- extraction: the record's raw values into v0, v1, ...
    def extraction(self) -> list[str]:
        lines: list[str] = []
        if self.fmt in ("csv", "tsv"):
            index = {}
            for position, name in enumerate(self.header):
                index.setdefault(name, position)
            missing = [ref for _what, ref in self.refs if ref.strip() not in index]
            if missing:
                raise MarketsyncError(
                    f"the feed has no column {', '.join(repr(m) for m in dict.fromkeys(missing))} "
                    f"(its header: {', '.join(self.header)})")
            width = len(self.header)
            lines.append(f"if len(rec) != {width}:")
            lines.append(f"    raise Rejected(f'the row has {{len(rec)}} fields, the header {width}')")
            for slot, (what, ref) in enumerate(self.refs):
                self.slots[what] = slot
                lines.append(f"v{slot} = rec[{index[ref.strip()]}]")
        elif self.fmt == "xml":
            lines += self._xml_extraction()
        else:
            for slot, (what, ref) in enumerate(self.refs):
                self.slots[what] = slot
                lines += self._json_path(f"v{slot}", ref.strip().split("."))
        return lines

    def _xml_extraction(self) -> list[str]:
        """v<slot> = string(<path>) or None for every XPath of the mapping, relative to the record `rec`.

        libxml2's XPath costs about a microsecond per path and record, mostly in setting up each
        evaluation, so the paths `simple_xpath` knows are read in Python instead: each element on the
        way is found once per record, from its parent's children, whose tags are looked up in a cache
        of layouts (where the first child of each wanted tag is; see `_xml_layout`). The result is
        exactly string(path):
        - string() of a node-set is the string-value of its first node in document order ('' when it is
          empty). For steps s1/.../sk, with e0 the record and ej the first sj-child of e(j-1): when all
          exist, ek is that first node (the nodes of a step are children of the previous step's nodes,
          none inside another, so everything under e(j-1) comes before what is under a later node).
          When e1 is missing, the node-set is empty. When a later ej is missing, the node-set is empty
          if e1..e(j-1) are each the only node of their step (no sibling of the same tag, or a `[1]`
          step); otherwise a later node may have what e(j-1) lacks, and the field is read with XPath.
        - An element's string-value is all its descendant text (CDATA included; comments and PIs not):
          that is lxml's `.text` only when the element has no children, comments, PIs or entity
          references (len() counts them all); otherwise the field is read with XPath.
        - A final attribute is that of the first node that has it: ek's, or, when ek lacks it, none if
          every step's node is the only one (as above), and XPath tells otherwise.
        Every other path is read with XPath, all of them with one `concat` per record.
        """
        namespaces = _xml_namespaces(self.mapping)
        xpaths = [etree.XPath(f"string({ref})", namespaces=namespaces, smart_strings=False)
                  for _what, ref in self.refs]
        self.consts["_XPS"] = xpaths
        self.consts["_TAG"] = _TAG
        names: dict[Any, str] = {}

        def name(value: str) -> str:  # one bound constant per distinct tag, attribute name or value
            if value not in names:
                names[value] = self.const(value)
            return names[value]

        # The elements the simple paths go through, as a tree: node 0 is the record; a node's key is
        # its step (tag, predicate) under its parent. Node n's element is in _e<n> (None when missing).
        children: list[dict[tuple, int]] = [{}]
        simple: dict[int, tuple[list[int], tuple[XmlStep, ...], str | None]] = {}
        for slot, (what, ref) in enumerate(self.refs):
            self.slots[what] = slot
            parsed = simple_xpath(ref, namespaces)
            if parsed is None:
                continue
            steps, attribute = parsed
            nodes, node = [], 0
            for tag, predicate, _first in steps:
                key = (tag, predicate)
                if key not in children[node]:
                    children[node][key] = len(children)
                    children.append({})
                node = children[node][key]
                nodes.append(node)
            simple[slot] = (nodes, steps, attribute)

        lines: list[str] = []

        def descendants(node: int) -> list[int]:
            found = []
            for child in children[node].values():
                found += [child, *descendants(child)]
            return found

        def find(node: int, element: str, indent: str) -> None:
            """Lines setting _e<c> for the children c of `node`, whose element (not None) is `element`:
            its children in _k<node> (then None), their tags in _x<node>, where the wanted ones are in
            _l<node> (see `_xml_layout`)."""
            if not children[node]:
                return
            plain = [(tag, child) for (tag, predicate), child in children[node].items() if predicate is None]
            grouped = list(dict.fromkeys(tag for tag, predicate in children[node] if predicate is not None))
            cache, layout = _xml_layout([tag for tag, _child in plain], grouped)
            x, k, wanted = f"_x{node}", f"_k{node}", f"_l{node}"
            lines.append(f"{indent}{k} = {element}[:]")
            lines.append(f"{indent}{x} = tuple(map(_TAG, {k}))")
            lines.append(f"{indent}{wanted} = {self.const(cache)}.get({x}) or {self.const(layout)}({x})")
            lines.append(f"{indent}{k}.append(None)")
            if plain:
                # (An itemgetter of one position gives the item, of more a tuple.)
                lines.append(f"{indent}{', '.join(f'_e{child}' for _tag, child in plain)} = {wanted}[0]({k})")
            groups: dict[tuple[str, str], str] = {}
            for (tag, predicate), child in children[node].items():
                if predicate is not None:
                    group = groups.get((tag, predicate[0]))
                    if group is None:
                        group = groups[(tag, predicate[0])] = f"_g{node}_{len(groups)}"
                        # {attribute value: child}, from the children last first: the first in
                        # document order with each value is kept.
                        lines.extend([f"{indent}{group} = {{}}",
                                      f"{indent}for _c in {wanted}[{bool(plain) + grouped.index(tag)}]({k}):",
                                      f"{indent}    {group}[_c.get({name(predicate[0])})] = _c"])
                    lines.append(f"{indent}_e{child} = {group}.get({name(predicate[1])})")
            for (_tag, _predicate), child in children[node].items():
                if children[child]:
                    lines.append(f"{indent}if _e{child} is not None:")
                    find(child, f"_e{child}", indent + "    ")
                    lines.append(f"{indent}else:")
                    lines.extend(f"{indent}    _e{d} = None" for d in descendants(child))

        find(0, "rec", "")

        for slot, (nodes, steps, attribute) in simple.items():
            v = f"v{slot}"
            xpath = f"(_XPS[{slot}](rec) or None)"

            def only(levels: int, nodes: list[int] = nodes,
                     steps: tuple[XmlStep, ...] = steps) -> list[str] | None:
                """Conditions for steps 1..levels to have one node each; None: not known here."""
                conditions = []
                for level in range(levels):
                    tag, predicate, first = steps[level]
                    if first:
                        continue
                    if predicate is not None:
                        return None
                    above = nodes[level - 1] if level else 0
                    conditions.append(f"_x{above}.count({name(tag)}) == 1")
                return conditions

            def empty_unless_more(levels: int, indent: str, v: str = v, xpath: str = xpath) -> None:
                conditions = only(levels)
                if conditions is None:
                    lines.append(f"{indent}{v} = {xpath}")
                elif not conditions:
                    lines.append(f"{indent}{v} = None")
                else:
                    lines.append(f"{indent}{v} = None if {' and '.join(conditions)} else {xpath}")

            if not nodes:
                if attribute is not None:
                    lines.append(f"{v} = rec.get({name(attribute)}) or None")
                else:
                    lines.append(f"{v} = (rec.text or None) if not len(rec) else {xpath}")
                continue
            element = f"_e{nodes[-1]}"
            lines.append(f"if {element} is not None:")
            if attribute is not None:
                lines.append(f"    {v} = {element}.get({name(attribute)})")
                lines.append(f"    if {v} is None:")
                empty_unless_more(len(nodes), "        ")
                lines.append(f"    elif not {v}:")
                lines.append(f"        {v} = None")
            else:
                lines.append(f"    {v} = ({element}.text or None) if not len({element}) else {xpath}")
            for level, node in enumerate(nodes[:-1], 1):
                # _e<node> is the first missing element: the node-set ends there unless a sibling goes on.
                lines.append(f"elif _e{node} is None:")
                empty_unless_more(level - 1, "    ")
            lines.append("else:")
            empty_unless_more(len(nodes) - 1, "    ")

        rest = [slot for slot in range(len(self.refs)) if slot not in simple]
        if len(rest) == 1:
            lines.append(f"v{rest[0]} = _XPS[{rest[0]}](rec) or None")
        elif rest:
            joined = f", '{_XML_SEPARATOR}', ".join(f"string({self.refs[slot][1]})" for slot in rest)
            self.consts["_XP"] = etree.XPath(f"concat({joined}, '')", namespaces=namespaces, smart_strings=False)
            self.consts["_XPR"] = [xpaths[slot] for slot in rest]
            self.consts["_SEP"] = _XML_SEPARATOR
            lines.append("_vals = _XP(rec).split(_SEP)")
            lines.append(f"if len(_vals) != {len(rest)}:")
            lines.append("    _vals = [xp(rec) for xp in _XPR]")
            lines += [f"v{slot} = _vals[{i}] or None" for i, slot in enumerate(rest)]
        return lines

    def _json_path(self, target: str, steps: list[str]) -> list[str]:
        lines = []
        current = "rec"
        for depth, step in enumerate(steps):
            last = depth == len(steps) - 1
            name = target if last else f"_{target}_{depth}"
            if step.isdigit():
                position = int(step)
                lines.append(f"{name} = {current}[{position}] if type({current}) is list and "
                             f"len({current}) > {position} else None")
            else:
                getter = f"{current}.get({self.const(step)})"
                lines.append(f"{name} = {getter}" if depth == 0 else
                             f"{name} = {getter} if type({current}) is dict else None")
            current = name
        return lines

    # -- conversion of each canonical column into a local variable
    def conversion(self, variant: str) -> list[str]:
        """Code that turns v0, v1, ... into the canonical columns. variant 'map' makes Python values
        (Decimal, int, datetime); 'copy' makes COPY text, skipping the round trip through Python types
        for values already in a form Postgres reads (a plain decimal price, a digit-only stock, an ISO
        timestamp), after checking them as strictly."""
        m = self.mapping
        defaults = {column: _convert_default(column, value, m)
                    for column, value in (m.get("defaults") or {}).items()}
        lines: list[str] = []
        textual = self.textual
        copy = variant == "copy"

        def value(what: str) -> str | None:
            return f"v{self.slots[what]}" if what in self.slots else None

        def default(column: str) -> str:
            d = defaults.get(column)
            if d is None:
                return "None"
            if (copy and column == "price") or (copy and column == "quantity"):
                d = str(d)
            elif copy and column == "source_updated_at":
                d = d.isoformat()
            return self.const(d)

        # external_id: required
        v = value("external_id")
        lines.append(f"external_id = {v}.strip() if {v} else None" if textual else f"external_id = _text({v})")
        lines.append("if not external_id:")
        lines.append(f"    raise Rejected({self.const('no external id (field ' + repr(m['external_id']) + ')')})")
        # gtin
        v = value("gtin")
        if v:
            hint = self.const(m.get("gtin_type")) if m.get("gtin_type") else "None"
            lines.append(f"gtin14 = _gtin({v}, {hint}) if {v} else None")
        else:
            lines.append("gtin14 = None")
        for column in TEXT_COLUMNS:
            v = value(column)
            d = default(column)
            if v is None:
                lines.append(f"{column} = {d}")
            elif textual:
                lines.append(f"{column} = ({v}.strip() or {d}) if {v} else {d}")
            else:
                lines.append(f"{column} = _text({v}) or {d}")
        lines += self._price(value("price"), default("price"), copy)
        # currency: the few codes a feed uses are checked once each (a per-mapping cache)
        v = value("currency")
        d = default("currency")
        if v is None:
            lines.append(f"currency = price_currency or {d}")
        else:
            self.consts["_CURRENCIES"] = {}
            lines += [
                f"if {v}:" if textual else f"if {v} is not None and {v} != '':",
                f"    currency = _CURRENCIES.get({v})" if textual else
                f"    currency = _CURRENCIES.get({v}) if type({v}) is str else None",
                "    if currency is None:",
                f"        currency = _known(_CURRENCIES, {v}, _parse_currency)",
                "else:",
                f"    currency = price_currency or {d}",
            ]
        lines += self._quantity(value("quantity"), default("quantity"), copy)
        # product type (physical unless said otherwise)
        v = value("product_type")
        d = default("product_type")
        fallback = d if d != "None" else self.const("physical")
        if v is None:
            lines.append(f"product_type = {fallback}")
        else:
            self.consts["_TYPES"] = {}
            lines += [
                f"if {v} is not None and {v} != '':",
                f"    product_type = _TYPES.get({v})" if self.textual else
                f"    product_type = _TYPES.get({v}) if type({v}) is str else None",
                "    if product_type is None:",
                f"        product_type = _known(_TYPES, {v}, _parse_product_type)",
                "else:",
                f"    product_type = {fallback}",
            ]
        # lists
        separator = self.const(m.get("list_separator") or ",")
        for column in ("regions", "languages"):
            v = value(column)
            d = default(column)
            lines.append(f"{column} = {d}" if v is None else f"{column} = _parse_list({v}, {separator}) or {d}")
        # source_updated_at
        v = value("source_updated_at")
        d = default("source_updated_at")
        parse = "_timestamp_text" if copy else "_parse_timestamp"
        lines.append(f"source_updated_at = {d}" if v is None else
                     f"source_updated_at = {parse}({v}) if {v} not in (None, '') else {d}")
        lines += self._attributes(value)
        # required columns: a record without one is quarantined with the reason
        for column in m.get("required") or ():
            if column in ("external_id", "price"):
                continue  # checked above, always
            name = "gtin14" if column == "gtin" else column
            reason = self.const(f"no {column} (field {m[column]!r}), which the mapping requires")
            lines += [f"if {name} is None or {name} == '':", f"    raise Rejected({reason})"]
        # translations
        for i, language in enumerate(self.languages, 1):
            for kind in TRANSLATED:
                v = value(f"{kind}.{language}")
                if v is None:
                    lines.append(f"{kind}_{i} = None")
                elif textual:
                    lines.append(f"{kind}_{i} = ({v}.strip() or None) if {v} else None")
                else:
                    lines.append(f"{kind}_{i} = _text({v})")
        return lines

    def _price(self, v: str | None, d: str, copy: bool) -> list[str]:
        """price (and a currency written into the price text, as in "12.50 EUR")."""
        if v is None:
            return [f"price = {d}", "price_currency = None"]
        dc = bool(self.mapping.get("decimal_comma"))
        slow = f"_parse_price({v}, {dc})"
        if copy:
            slow = f"_price_text({v}, {dc})"
        empty = f"not {v}" if self.textual else f"{v} is None or {v} == ''"
        # A mapped price is required: an empty one must never load as "no price" over a stored price.
        if d != "None":
            missing = f"    price = {d}"
        else:
            reason = self.const('no price (field ' + repr(self.mapping['price']) + '): a mapped price is required')
            missing = f"    raise Rejected({reason})"
        lines = ["price_currency = None", f"if {empty}:", missing, "else:"]
        if self.textual and copy:
            # Fast path: digits with an optional decimal part is already what Postgres reads.
            self.consts["_PLAIN"] = (_PLAIN_DECIMAL_COMMA if dc else _PLAIN_DECIMAL).fullmatch
            if dc:
                lines += [f"    if _PLAIN({v}):", f"        price = {v}.replace(',', '.')"]
            else:
                lines += [f"    if _PLAIN({v}):", f"        price = {v}"]
            lines += ["    else:", f"        price, price_currency = {slow}"]
        elif self.textual and not dc:
            lines += [
                "    try:",
                f"        price = _D({v})",
                "    except _InvalidOperation:",
                f"        price, price_currency = {slow}",
                "    else:",
                f"        if not (price.is_finite() and _ZERO <= price < _LIMIT) or '_' in {v}:",
                f"            price, price_currency = {slow}",
            ]
        else:
            lines.append(f"    price, price_currency = {slow}")
        return lines

    def _quantity(self, v: str | None, d: str, copy: bool) -> list[str]:
        if v is None:
            return [f"quantity = {d}"]
        if not self.textual:
            convert = f"str(_parse_quantity({v}))" if copy else f"_parse_quantity({v})"
            return [f"quantity = {d} if {v} is None or {v} == '' else {convert}"]
        if copy:
            return [
                f"if {v}:",
                f"    if {v}.isdigit() and {v}.isascii() and len({v}) < 10:",
                f"        quantity = {v}",
                "    else:",
                f"        quantity = str(_parse_quantity({v}))",
                "else:",
                f"    quantity = {d}",
            ]
        return [
            f"if {v}:",
            "    try:",
            f"        quantity = int({v})",
            "    except ValueError:",
            f"        quantity = _parse_quantity({v})",
            "    if quantity < 0 or quantity > _QLIMIT:",
            "        quantity = _parse_quantity(quantity)",
            "else:",
            f"    quantity = {d}",
        ]

    def _attributes(self, value: Callable[[str], str | None]) -> list[str]:
        attributes = _attributes(self.mapping)
        if not attributes:
            return ["attributes = '{}'"]
        lines = ["attrs = {}"]
        for name, _ref in attributes:
            v = value(f"attributes.{name}")
            key = self.const(name)
            if self.textual:
                lines += [f"if {v}:", f"    _a = {v}.strip()", "    if _a:", f"        attrs[{key}] = _a"]
            else:
                lines += [f"if {v} is not None and {v} != '':",
                          f"    attrs[{key}] = {v}.strip() if type({v}) is str else {v}"]
        lines.append("attributes = _attributes_json(attrs) if attrs else '{}'")
        return lines

    def build(self) -> CompiledMapping:
        extraction = self.extraction()
        product = ("external_id, gtin14, sku, mpn, brand, price, currency, availability, quantity, product_type, "
                   "platform, regions, languages, attributes, source_updated_at")
        translations = []
        for i, language in enumerate(self.languages, 1):
            lang = self.const(language)
            translations.append(f"if title_{i} or description_{i}:")
            translations.append(f"    tr.append((external_id, {lang}, title_{i}, description_{i}))")
        map_body = extraction + self.conversion("map") + ["tr = []", *translations,
                                                           f"return Mapped(({product}), tr)"]

        # The COPY line: NULL is the empty string (COPY ... NULL ''), which no value can be, since
        # empty values are None by now. Escaping is needed only when a value holds a tab, a newline or
        # a backslash: one scan of the finished line finds out, and the rare line is rebuilt escaped.
        parts = [
            "external_id", "gtin14 or ''", "sku or ''", "mpn or ''", "brand or ''", "price or ''",
            "currency or ''", "availability or ''", "quantity or ''", "product_type", "platform or ''",
            "_pg_array(regions) if regions else ''", "_pg_array(languages) if languages else ''",
            "attributes", "source_updated_at or ''",
        ]
        for i in range(1, len(self.languages) + 1):
            parts += [f"title_{i} or ''", f"description_{i} or ''"]
        tabs = len(parts) - 1
        copy_body = extraction + self.conversion("copy") + [
            'line = f"' + "\\t".join("{" + p + "}" for p in parts) + '\\n"',
            f"if line.count('\\t') != {tabs} or '\\\\' in line or '\\r' in line or line.count('\\n') != 1:",
            f"    line = _escaped_line(({', '.join(parts)}))",
        ]
        if not self.textual:
            copy_body += ["if '\\x00' in line:", "    raise Rejected('the record contains NUL characters')"]
        copy_body.append("return line")
        self.consts["_FIELDS"] = [what for what, _ref in self.refs]
        values = "".join(f"v{slot}, " for slot in range(len(self.refs)))
        extract_body = [*extraction, f"return dict(zip(_FIELDS, ({values})))"]
        source = "\n".join([
            "def map_record(rec):", *("    " + line for line in map_body), "",
            "def copy_line(rec):", *("    " + line for line in copy_body), "",
            "def extract(rec):", *("    " + line for line in extract_body), "",
        ])
        namespace = dict(self.consts)
        exec(compile(source, f"<feed mapping {self.fmt}>", "exec"), namespace)  # noqa: S102 - see module docstring
        return CompiledMapping(mapping=self.mapping, fmt=self.fmt, languages=self.languages,
                               map=namespace["map_record"], copy_line=namespace["copy_line"], source=source,
                               extract=namespace["extract"])
