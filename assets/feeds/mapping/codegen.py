"""Compiling a mapping: `compile_mapping` turns a validated mapping into the record functions of one feed.

This runs once per feed row, a million times for a large feed, so `compile_mapping` turns a mapping
into one Python function per (mapping, format, header), generated as source code with every decision
taken once: which fields exist, where they are, which defaults apply. Only constants chosen by
marketsync itself appear in that code; every value from the mapping (column names, paths, defaults)
is passed in as a bound constant, never spliced into the source.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from lxml import etree

from marketsync.assets.catalog.columns import PRODUCT_COLUMNS
from marketsync.assets.feeds.mapping.copy_text import (
    _PLAIN_DECIMAL,
    _PLAIN_DECIMAL_COMMA,
    _attributes_json,
    escaped_line,
    pg_array,
    price_text,
    timestamp_text,
)
from marketsync.assets.feeds.mapping.extras import (
    ENTITY,
    image_urls,
    option_attributes,
    plain_text,
    quantity_for_availability,
    signed_quantity,
    unit_in_column_name,
    weight_grams,
)
from marketsync.assets.feeds.mapping.parsers import (
    PRICE_LIMIT,
    QUANTITY_LIMIT,
    Rejected,
    _convert_default,
    _gtin,
    _known,
    _text,
    parse_currency,
    parse_list,
    parse_price,
    parse_product_type,
    parse_quantity,
    parse_timestamp,
)
from marketsync.assets.feeds.mapping.refs import ref_options
from marketsync.assets.feeds.mapping.schema import (
    TEXT_COLUMNS,
    TRANSLATED,
    _attributes,
    _refs,
    _xml_namespaces,
    image_refs,
    validate_mapping,
)
from marketsync.assets.feeds.mapping.xpath import _TAG, XmlStep, _xml_layout, simple_xpath
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.scrubbing import excerpt

# Separates the fields of a record in the one XPath string an XML record's other fields are read with
# (see `simple_xpath`). A private-use character: legal in XML, absent from real feeds, and a record that
# has it anyway is read field by field.
_XML_SEPARATOR = "\ue000"


HEADER_SHOWN = 12  # columns of a header an error names, each as a short excerpt


def header_excerpt(header: list[str]) -> str:
    """A feed's header as an error may show it: the first columns, each a short scrubbed excerpt. A header
    is input: the first line of whatever the location pointed at."""
    shown = ", ".join(excerpt(name, 40) for name in header[:HEADER_SHOWN])
    return shown + (f" and {len(header) - HEADER_SHOWN:,} more" if len(header) > HEADER_SHOWN else "")


@dataclass
class Mapped:
    """One record mapped: its product tuple (PRODUCT_COLUMNS order) and translation tuples."""

    product: tuple
    translations: list[tuple] = field(default_factory=list)


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
    """The feed stage's columns: the product columns, then per language a title, a description and the
    description's plain text (where it is HTML)."""
    return PRODUCT_COLUMNS + tuple(f"{kind}_{i}" for i in range(1, language_count + 1)
                                   for kind in ("title", "description", "description_text"))


def compile_mapping(mapping: dict[str, Any], fmt: str, header: Sequence[str] | None = None) -> CompiledMapping:
    """Validate `mapping` for format `fmt` and compile it (for CSV/TSV against the feed's `header`)."""
    validate_mapping(mapping, fmt)
    if fmt in ("csv", "tsv"):
        if header is None:
            raise MarketsyncError("a CSV mapping is compiled against the feed's header row")
        return _Generator(mapping, fmt, list(header)).build()
    return _Generator(mapping, fmt, None).build()


def _every_value(paths: list[Any], record: Any) -> list[str]:
    """The text of every node the first path that finds any finds (an element's string value, an
    attribute's value): an XML feed repeats an element for each of several images."""
    for path in paths:
        found = path(record)
        if isinstance(found, list) and found:
            return [str(node) if isinstance(node, str) else str(node.xpath("string()")) for node in found]
        if isinstance(found, str) and found:
            return [str(found)]
    return []


def _lowered(words: dict[str, str] | None) -> dict[str, str] | None:
    return {k.lower(): v for k, v in words.items()} if words else None


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
            "_signed_quantity": signed_quantity, "_quantity_for": quantity_for_availability,
            "_options": option_attributes,
            "_image_urls": image_urls, "_every_value": _every_value, "_weight_grams": weight_grams,
            "_plain_text": plain_text, "_ENTITY": ENTITY.search,
        }
        self.refs = _refs(mapping)
        self.slots: dict[str, int] = {}  # what -> index into the extracted values
        self.fields: list[str] = []  # what `extract` returns, in slot order
        self.columns: dict[str, str] = {}  # what -> the CSV column it is read from
        self.languages = tuple(dict.fromkeys(
            [*(mapping.get("title") or {}), *(mapping.get("description") or {})]))

    def const(self, value: Any) -> str:
        name = f"K{len(self.consts)}"
        self.consts[name] = value
        return name

    # -- extraction: the record's raw values into v0, v1, ...
    def extraction(self) -> list[str]:
        """Lines reading every field the mapping names into v<slot>; `self.slots` says which slot holds
        what, `self.fields` lists what `extract` returns, `self.columns` the CSV column each was read from."""
        if self.fmt in ("csv", "tsv"):
            return self._csv_extraction()
        # XML and JSON: each alternative of a field is read, and the first with a value kept.
        # (XML images are read apart: every element a path finds, g:additional_image_link repeated.)
        xml = self.fmt == "xml"
        expanded = [(what if k == 0 else f"{what}|{k}", option)
                    for what, ref in self.refs if not (xml and what.startswith("images."))
                    for k, option in enumerate(ref_options(ref))]
        for slot, (what, _ref) in enumerate(expanded):
            self.slots[what] = slot
        if xml:
            lines = _XmlExtraction(expanded, _xml_namespaces(self.mapping), self.const, self.consts).lines()
            for what, ref in self.refs:
                if what.startswith("images."):
                    slot = self.slots[what] = len(self.slots)
                    paths = [etree.XPath(option, namespaces=_xml_namespaces(self.mapping), smart_strings=False)
                             for option in ref_options(ref)]
                    lines.append(f"v{slot} = _every_value({self.const(paths)}, rec)")
            self.fields = [what for what, _ref in self.refs]
            return lines + self._coalesced(exclude="images.")
        else:
            lines = []
            for slot, (_what, ref) in enumerate(expanded):
                lines += self._json_path(f"v{slot}", ref.split("."))
        self.fields = [what for what, _ref in self.refs]
        return lines + self._coalesced()

    def _coalesced(self, exclude: str | None = None) -> list[str]:
        """Lines keeping, in each field's slot, the first of its alternatives that has a value."""
        lines = []
        for what, ref in self.refs:
            if exclude and what.startswith(exclude):
                continue
            first = f"v{self.slots[what]}"
            for k in range(1, len(ref_options(ref))):
                other = f"v{self.slots[f'{what}|{k}']}"
                lines.append(f"if {first} is None or {first} == '':")
                lines.append(f"    {first} = {other}")
        return lines

    def _csv_extraction(self) -> list[str]:
        index: dict[str, int] = {}
        for position, name in enumerate(self.header):
            index.setdefault(name, position)
        found: dict[str, str] = {}
        missing = []
        # What the mapping says a file may lack (and images and options, always): not read when absent.
        optional = set(self.mapping.get("optional") or ())
        for what, ref in self.refs:
            column = next((option for option in ref_options(ref) if option in index), None)
            if column is not None:
                found[what] = column
            elif not (what.startswith(("images.", "options.")) or what in optional):
                missing.append(" or ".join(repr(o) for o in ref_options(ref)))
        if missing:
            raise MarketsyncError(
                f"the feed has no column {', '.join(dict.fromkeys(missing))} "
                f"(its header: {header_excerpt(self.header)})")
        # An option pair is read only when the export has both of its columns.
        for what in [w for w in found if w.startswith("options.")]:
            prefix = what.rsplit(".", 1)[0]
            if f"{prefix}.name" not in found or f"{prefix}.value" not in found:
                del found[what]
        width = len(self.header)
        lines = [f"if len(rec) != {width}:",
                 f"    raise Rejected(f'the row has {{len(rec)}} fields, the header {width}')"]
        for slot, (what, column) in enumerate(found.items()):
            self.slots[what] = slot
            lines.append(f"v{slot} = rec[{index[column]}]")
        self.columns = found
        self.fields = list(found)
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
            # An HTML description stays as written; its plain text goes beside it. Markup is a '<' or an
            # entity; an ampersand alone ("Kueb & Co") is plain text, and costs no look.
            d = f"description_{i}"
            lines.append(f"description_text_{i} = _plain_text({d}) if {d} and ('<' in {d} or "
                         f"('&' in {d} and _ENTITY({d}))) else None")
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
        """quantity (COPY text or int) and stock_note: the cell's stock (a negative one clamped to 0 and
        noted, or rejected, by the mapping's negative_stock); when empty, the availability word's quantity
        (availability_quantity); then the default."""
        clamp = self.const(self.mapping.get("negative_stock", "clamp") == "clamp")
        signed = f"_signed_quantity({v}, {clamp})"
        lines = ["stock_note = None"]
        if v is None:
            lines.append("quantity = None")
        elif not self.textual:
            lines += [f"if {v} is None or {v} == '':", "    quantity = None", "else:",
                      f"    quantity, stock_note = {signed}"]
            if copy:
                lines.append("    quantity = str(quantity)")
        elif copy:
            lines += [
                f"if {v}:",
                f"    if {v}.isdigit() and {v}.isascii() and len({v}) < 10:",
                f"        quantity = {v}",
                "    else:",
                f"        quantity, stock_note = {signed}",
                "        quantity = str(quantity)",
                "else:",
                "    quantity = None",
            ]
        else:
            lines += [
                f"if {v}:",
                "    try:",
                f"        quantity = int({v})",
                "    except ValueError:",
                f"        quantity, stock_note = {signed}",
                "    if quantity < 0 or quantity > _QLIMIT:",
                "        quantity, stock_note = _signed_quantity(quantity, " + clamp + ")",
                "else:",
                "    quantity = None",
            ]
        table = self.mapping.get("availability_quantity")
        if table:
            # The few availability words of a feed are looked up once each.
            self.consts["_AVQ"] = {}
            found = "str(_q)" if copy else "_q"
            lines += ["if quantity is None and availability:",
                      "    _q = _AVQ.get(availability, -1)",
                      "    if _q == -1:",
                      f"        _q = _quantity_for(availability, {self.const(table)}, "
                      f"{self.const(_lowered(self.mapping.get('availability_words')))})",
                      "        if len(_AVQ) < 1000:",
                      "            _AVQ[availability] = _q",
                      f"    quantity = None if _q is None else {found}"]
        if d != "None":
            lines += ["if quantity is None:", f"    quantity = {d}"]
        return lines

    def _attributes(self, value: Callable[[str], str | None]) -> list[str]:
        """attributes as JSON text: the mapped attributes, then the option pairs, then what marketsync
        reads beside the columns (sale_price, images, weight_grams, stock_note)."""
        attributes = _attributes(self.mapping)
        extras = self._extras(value)
        if not attributes and not extras:
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
        lines += extras
        lines.append("attributes = _attributes_json(attrs) if attrs else '{}'")
        return lines

    def _extras(self, value: Callable[[str], str | None]) -> list[str]:
        """Lines adding the option pairs, sale price, images, weight and stock note to `attrs`."""
        m = self.mapping
        lines: list[str] = []
        pairs = [(value(f"options.{i}.name"), value(f"options.{i}.value"))
                 for i in range(len(m.get("option_pairs") or ()))]
        pairs = [(n, v) for n, v in pairs if n is not None and v is not None]
        if pairs:
            lines.append(f"attrs.update(_options([{', '.join(f'({n}, {v})' for n, v in pairs)}]))")
        v = value("sale_price")
        if v is not None:
            dc = bool(m.get("decimal_comma"))
            self.consts["_PLAIN"] = (_PLAIN_DECIMAL_COMMA if dc else _PLAIN_DECIMAL).fullmatch
            plain = f"{v}.replace(',', '.')" if dc else v
            fast = f"{plain} if type({v}) is str and _PLAIN({v}) else "
            lines += [f"if {v} is not None and {v} != '':",
                      f"    attrs['sale_price'] = {fast}str(_parse_price({v}, {dc})[0])"]
        cells = [value(f"images.{i}") for i in range(len(image_refs(m)))]
        cells = [c for c in cells if c is not None]
        if cells:
            separator = self.const(m.get("image_separator") or ",")
            lines += [f"_images = _image_urls([{', '.join(cells)}], {separator})",
                      "if _images:", "    attrs['images'] = _images"]
        v = value("weight")
        if v is not None:
            column = self.columns.get("weight")
            unit = m.get("weight_unit") or (unit_in_column_name(column) if column else None)
            # A feed's weights are a few thousand values at most: each is read once.
            self.consts["_WEIGHTS"] = {}
            lines += ["_w = _WEIGHTS.get(" + v + ") if type(" + v + ") is str else None",
                      "if _w is None:",
                      f"    _w = _weight_grams({v}, {self.const(unit)}, {bool(m.get('decimal_comma'))})",
                      f"    if type({v}) is str and len(_WEIGHTS) < 10000:",
                      f"        _WEIGHTS[{v}] = _w",
                      "if _w is not None:", "    attrs['weight_grams'] = _w"]
        if "quantity" in self.slots:
            lines += ["if stock_note:", "    attrs['stock_note'] = stock_note"]
        return lines

    def build(self) -> CompiledMapping:
        extraction = self.extraction()
        product = ("external_id, gtin14, sku, mpn, brand, price, currency, availability, quantity, product_type, "
                   "platform, regions, languages, attributes, source_updated_at")
        translations = []
        for i, language in enumerate(self.languages, 1):
            lang = self.const(language)
            translations.append(f"if title_{i} or description_{i}:")
            translations.append(
                f"    tr.append((external_id, {lang}, title_{i}, description_{i}, description_text_{i}))")
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
            parts += [f"title_{i} or ''", f"description_{i} or ''", f"description_text_{i} or ''"]
        tabs = len(parts) - 1
        copy_body = extraction + self.conversion("copy") + [
            'line = f"' + "\\t".join("{" + p + "}" for p in parts) + '\\n"',
            f"if line.count('\\t') != {tabs} or '\\\\' in line or '\\r' in line or line.count('\\n') != 1:",
            f"    line = _escaped_line(({', '.join(parts)}))",
        ]
        if not self.textual:
            copy_body += ["if '\\x00' in line:", "    raise Rejected('the record contains NUL characters')"]
        copy_body.append("return line")
        self.consts["_FIELDS"] = self.fields
        values = "".join(f"v{self.slots[what]}, " for what in self.fields)
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


class _XmlExtraction:
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

    The lines are written with the generator's constants: `const` binds a value, `consts` holds the
    named ones (_XPS, _TAG, and _XP, _XPR and _SEP for the rest)."""

    def __init__(self, refs: list[tuple[str, str]], namespaces: dict[str, str],
                 const: Callable[[Any], str], consts: dict[str, Any]):
        self.refs = refs
        self.namespaces = namespaces
        self.const = const
        self.consts = consts
        self.names: dict[Any, str] = {}
        # The elements the simple paths go through, as a tree: node 0 is the record; a node's key is
        # its step (tag, predicate) under its parent. Node n's element is in _e<n> (None when missing).
        self.children: list[dict[tuple, int]] = [{}]
        # slot -> (the tree's nodes along the path, its steps, its final attribute) of each simple path
        self.simple: dict[int, tuple[list[int], tuple[XmlStep, ...], str | None]] = {}
        self.out: list[str] = []

    def lines(self) -> list[str]:
        xpaths = [etree.XPath(f"string({ref})", namespaces=self.namespaces, smart_strings=False)
                  for _what, ref in self.refs]
        self.consts["_XPS"] = xpaths
        self.consts["_TAG"] = _TAG
        for slot, (_what, ref) in enumerate(self.refs):
            parsed = simple_xpath(ref, self.namespaces)
            if parsed is not None:
                self._add_path(slot, *parsed)
        self._find(0, "rec", "")
        for slot, (nodes, steps, attribute) in self.simple.items():
            if nodes:
                self._read_element(slot, nodes, steps, attribute)
            else:
                self._read_record(slot, attribute)
        self._read_rest(xpaths)
        return self.out

    def _name(self, value: str) -> str:
        """One bound constant per distinct tag, attribute name or value."""
        if value not in self.names:
            self.names[value] = self.const(value)
        return self.names[value]

    def _add_path(self, slot: int, steps: tuple[XmlStep, ...], attribute: str | None) -> None:
        """The tree's nodes for the steps of a simple path, added where missing."""
        children = self.children
        nodes, node = [], 0
        for tag, predicate, _first in steps:
            key = (tag, predicate)
            if key not in children[node]:
                children[node][key] = len(children)
                children.append({})
            node = children[node][key]
            nodes.append(node)
        self.simple[slot] = (nodes, steps, attribute)

    def _descendants(self, node: int) -> list[int]:
        found = []
        for child in self.children[node].values():
            found += [child, *self._descendants(child)]
        return found

    def _find(self, node: int, element: str, indent: str) -> None:
        """Lines setting _e<c> for the children c of `node`, whose element (not None) is `element`:
        its children in _k<node> (then None), their tags in _x<node>, where the wanted ones are in
        _l<node> (see `_xml_layout`)."""
        children = self.children[node]
        if not children:
            return
        plain = [(tag, child) for (tag, predicate), child in children.items() if predicate is None]
        grouped = list(dict.fromkeys(tag for tag, predicate in children if predicate is not None))
        cache, layout = _xml_layout([tag for tag, _child in plain], grouped)
        x, k, wanted = f"_x{node}", f"_k{node}", f"_l{node}"
        self.out.append(f"{indent}{k} = {element}[:]")
        self.out.append(f"{indent}{x} = tuple(map(_TAG, {k}))")
        self.out.append(f"{indent}{wanted} = {self.const(cache)}.get({x}) or {self.const(layout)}({x})")
        self.out.append(f"{indent}{k}.append(None)")
        if plain:
            # (An itemgetter of one position gives the item, of more a tuple.)
            self.out.append(f"{indent}{', '.join(f'_e{child}' for _tag, child in plain)} = {wanted}[0]({k})")
        # The functions of the grouped tags follow the itemgetter of the plain ones, if there is one.
        self._find_by_attribute(node, indent, wanted, k, grouped, int(bool(plain)))
        for child in children.values():
            if self.children[child]:
                self.out.append(f"{indent}if _e{child} is not None:")
                self._find(child, f"_e{child}", indent + "    ")
                self.out.append(f"{indent}else:")
                self.out.extend(f"{indent}    _e{d} = None" for d in self._descendants(child))

    def _find_by_attribute(self, node: int, indent: str, wanted: str, k: str, grouped: list[str],
                           first_group: int) -> None:
        """Lines setting _e<c> for the children c of `node` whose step has a predicate: the first child
        in document order with the step's tag whose attribute has the value. The children with the
        n-th tag of `grouped` are `wanted`[first_group + n](`k`)."""
        groups: dict[tuple[str, str], str] = {}
        for (tag, predicate), child in self.children[node].items():
            if predicate is None:
                continue
            group = groups.get((tag, predicate[0]))
            if group is None:
                group = groups[(tag, predicate[0])] = f"_g{node}_{len(groups)}"
                # {attribute value: child}, from the children last first: the first in
                # document order with each value is kept.
                self.out.extend([f"{indent}{group} = {{}}",
                                 f"{indent}for _c in {wanted}[{first_group + grouped.index(tag)}]({k}):",
                                 f"{indent}    {group}[_c.get({self._name(predicate[0])})] = _c"])
            self.out.append(f"{indent}_e{child} = {group}.get({self._name(predicate[1])})")

    def _read_record(self, slot: int, attribute: str | None) -> None:
        """v<slot> for a path to the record itself (`.`) or one of its attributes."""
        v, xpath = f"v{slot}", f"(_XPS[{slot}](rec) or None)"
        if attribute is not None:
            self.out.append(f"{v} = rec.get({self._name(attribute)}) or None")
        else:
            self.out.append(f"{v} = (rec.text or None) if not len(rec) else {xpath}")

    def _read_element(self, slot: int, nodes: list[int], steps: tuple[XmlStep, ...],
                      attribute: str | None) -> None:
        """v<slot> for a path through the tree's `nodes`: from the last element, else None when no
        later node can have it, else with XPath."""
        v, xpath = f"v{slot}", f"(_XPS[{slot}](rec) or None)"
        element = f"_e{nodes[-1]}"
        self.out.append(f"if {element} is not None:")
        if attribute is not None:
            self.out.append(f"    {v} = {element}.get({self._name(attribute)})")
            self.out.append(f"    if {v} is None:")
            self._empty_unless_more(len(nodes), "        ", v, xpath, nodes, steps)
            self.out.append(f"    elif not {v}:")
            self.out.append(f"        {v} = None")
        else:
            self.out.append(f"    {v} = ({element}.text or None) if not len({element}) else {xpath}")
        for level, node in enumerate(nodes[:-1], 1):
            # _e<node> is the first missing element: the node-set ends there unless a sibling goes on.
            self.out.append(f"elif _e{node} is None:")
            self._empty_unless_more(level - 1, "    ", v, xpath, nodes, steps)
        self.out.append("else:")
        self._empty_unless_more(len(nodes) - 1, "    ", v, xpath, nodes, steps)

    def _only(self, levels: int, nodes: list[int], steps: tuple[XmlStep, ...]) -> list[str] | None:
        """Conditions for steps 1..levels to have one node each; None: not known here."""
        conditions = []
        for level in range(levels):
            tag, predicate, first = steps[level]
            if first:
                continue
            if predicate is not None:
                return None
            above = nodes[level - 1] if level else 0
            conditions.append(f"_x{above}.count({self._name(tag)}) == 1")
        return conditions

    def _empty_unless_more(self, levels: int, indent: str, v: str, xpath: str, nodes: list[int],
                           steps: tuple[XmlStep, ...]) -> None:
        conditions = self._only(levels, nodes, steps)
        if conditions is None:
            self.out.append(f"{indent}{v} = {xpath}")
        elif not conditions:
            self.out.append(f"{indent}{v} = None")
        else:
            self.out.append(f"{indent}{v} = None if {' and '.join(conditions)} else {xpath}")

    def _read_rest(self, xpaths: list[Any]) -> None:
        """The fields of the other paths, with XPath: one path alone, more with one `concat`."""
        rest = [slot for slot in range(len(self.refs)) if slot not in self.simple]
        if len(rest) == 1:
            self.out.append(f"v{rest[0]} = _XPS[{rest[0]}](rec) or None")
        elif rest:
            joined = f", '{_XML_SEPARATOR}', ".join(f"string({self.refs[slot][1]})" for slot in rest)
            self.consts["_XP"] = etree.XPath(f"concat({joined}, '')", namespaces=self.namespaces,
                                             smart_strings=False)
            self.consts["_XPR"] = [xpaths[slot] for slot in rest]
            self.consts["_SEP"] = _XML_SEPARATOR
            self.out.append("_vals = _XP(rec).split(_SEP)")
            self.out.append(f"if len(_vals) != {len(rest)}:")
            self.out.append("    _vals = [xp(rec) for xp in _XPR]")
            self.out += [f"v{slot} = _vals[{i}] or None" for i, slot in enumerate(rest)]
