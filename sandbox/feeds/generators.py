"""Deterministic supplier feeds of any size, in every format a supplier sends, with their usual flaws.

A supplier's catalog export is the same products whatever the format: product `i` of a seed is computed
from `i` alone (no shared random state), so a feed of a million rows streams to disk in constant memory,
the same seed always gives the same bytes, and `mutate` can rebuild the feed with a chosen share of
products changed (price and stock moved, as a supplier's nightly export does) for refresh benchmarks.

Formats: CSV and TSV (header row; optional quoted newlines in descriptions), namespaced XML (a default
namespace plus Google Shopping's `g:` prefix, titles per language as `xml:lang` attributes), a REST-style
JSON document (records under `data.items`), NDJSON (one record per line), and "shopify": a Shopify-style
product export (the product CSV's column names; a product's first row holds its title, HTML body and
vendor, its other variants only the Handle and their own cells, and every fifth product has a row that
only adds an image). A Shopify export's mapping is marketsync's `shopify-products` preset, so its writer
returns None for the mapping; every other writer returns its own.

Options every writer takes:
- encoding: utf-8, utf-8-sig (with a BOM, as Excel writes) or cp1252 (Windows exports);
- bad_share: share of rows that must be refused (a wrong GTIN check digit, a price that is not a
  number, a missing id, in turn); exactly `count_bad(rows, bad_share)` of them;
- quoted_newlines: every tenth description runs over two lines;
- languages: titles and descriptions per language (en, fr, de);
- decimal_comma: prices written "12,50" as German and French spreadsheets do (CSV and TSV).

Every writer returns the default mapping for what it wrote (the JSON configuration a catalog source
stores in ops.catalog_sources.mapping), so a test or the demo can load it straight away.
"""
from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any
from xml.sax.saxutils import escape

import orjson

from marketsync.sandbox.letzshop.barcodes import check_digit, wrong_check_digit
from marketsync.sandbox.letzshop.words import BRANDS, COLOURS, LINES, NOUNS

FORMATS = ("csv", "tsv", "xml", "json", "ndjson", "shopify")
LANGUAGES = ("en", "fr", "de")  # the order of the word tables in sandbox.letzshop.words
_LANG_INDEX = {lang: i for i, lang in enumerate(LANGUAGES)}

XML_NAMESPACE = "urn:marketsync:sandbox:supplier-feed"
GOOGLE_NAMESPACE = "http://base.google.com/ns/1.0"

SIZES = ("XS", "S", "M", "L", "XL", "one size")
AVAILABILITY = ("in stock", "in stock", "in stock", "out of stock", "preorder")
CATEGORIES = ("Home & Garden", "Apparel", "Food & Drink", "Office", "Gifts")
_BATCH = 5000  # rows rendered per write: big enough to amortise the call, small enough to stay flat


# ---------------------------------------------------------------- which rows are bad or changed

def _period(share: float) -> int:
    return max(1, round(1 / share)) if share > 0 else 0


def count_bad(rows: int, bad_share: float) -> int:
    """How many of `rows` a writer makes bad for `bad_share` (every round(1/share)-th row)."""
    period = _period(bad_share)
    return rows // period if period else 0


def count_changed(rows: int, share: float) -> int:
    """How many of `rows` `mutate` changes for `share`."""
    period = _period(share)
    return (rows + period // 2) // period if period else 0


def _is_bad(i: int, period: int) -> int:
    """0 for a good row, else 1 + the kind of damage (0 bad GTIN, 1 bad price, 2 missing id)."""
    if period and i % period == period - 1:
        return 1 + (i // period) % 3
    return 0


# ---------------------------------------------------------------- one product

class _Product:
    """Product `i` of `seed` as plain strings, the way every format writes it."""

    __slots__ = (
        "availability",
        "brand",
        "category",
        "color",
        "currency",
        "descriptions",
        "gtin",
        "id",
        "mpn",
        "price",
        "quantity",
        "size",
        "sku",
        "titles",
        "updated_at",
    )


def _product(i: int, seed: int, languages: tuple[str, ...], quoted_newlines: bool, change: int,
             bad: int, decimal_comma: bool) -> _Product:
    p = _Product()
    # A multiplicative hash of the index: cheap, deterministic and well spread.
    h = ((i + 1) * 2654435761 + seed * 40503) & 0xFFFFFFFF
    n = i + 1
    p.id = f"P{n:08d}"
    p.sku = f"SKU-{seed % 100:02d}-{n:08d}"
    body = f"40{(seed * 7919 + i) % 10_000_000_000:010d}"
    p.gtin = body + check_digit(body)
    p.mpn = f"MPN{h % 99991:05d}"
    p.brand = BRANDS[h % len(BRANDS)]
    noun = NOUNS[(h >> 5) % len(NOUNS)]
    colour = COLOURS[(h >> 10) % len(COLOURS)]
    line = LINES[(h >> 14) % len(LINES)]
    size = SIZES[(h >> 18) % len(SIZES)]
    p.titles = {lang: f"{line} {noun[_LANG_INDEX[lang]]} {colour[_LANG_INDEX[lang]]} {size}" for lang in languages}
    multiline = quoted_newlines and i % 10 == 3
    p.descriptions = {
        lang: (f"{noun[_LANG_INDEX[lang]]} by {p.brand}, \"{line}\" series."
               + ("\nSecond line: care instructions inside." if multiline else ""))
        for lang in languages
    }
    cents = 199 + (h >> 8) % 49_800 + 100 * change
    p.price = f"{cents // 100}{',' if decimal_comma else '.'}{cents % 100:02d}"
    p.currency = "EUR"
    p.availability = AVAILABILITY[(h >> 3) % len(AVAILABILITY)]
    p.quantity = str((h >> 12) % 500 + change)
    p.category = CATEGORIES[(h >> 20) % len(CATEGORIES)]
    p.color = colour[0]
    p.size = size
    p.updated_at = f"2026-0{1 + min(change, 8)}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z"
    if bad == 1:
        p.gtin = wrong_check_digit(p.gtin, 1 + i % 9)
    elif bad == 2:
        p.price = "call us"
    elif bad == 3:
        p.id = ""
    return p


def _products(rows: int, seed: int, languages: tuple[str, ...], bad_share: float, quoted_newlines: bool,
              changed_share: float, change_round: int, decimal_comma: bool) -> Iterator[_Product]:
    bad_period = _period(bad_share)
    change_period = _period(changed_share)
    for i in range(rows):
        # Changed rows sit half a period away from the bad ones, so the two sets rarely meet.
        change = change_round if change_period and i % change_period == change_period // 2 else 0
        yield _product(i, seed, languages, quoted_newlines, change, _is_bad(i, bad_period), decimal_comma)


# ---------------------------------------------------------------- output

@contextmanager
def _binary(target: str | os.PathLike | IO[bytes]) -> Iterator[IO[bytes]]:
    if hasattr(target, "write"):
        yield target  # type: ignore[misc]
    else:
        with open(target, "wb", buffering=1 << 20) as f:
            yield f


@contextmanager
def _text(target: str | os.PathLike | IO[bytes], encoding: str) -> Iterator[IO[str]]:
    with _binary(target) as raw:
        wrapper = io.TextIOWrapper(raw, encoding=encoding, newline="", write_through=False)
        try:
            yield wrapper
        finally:
            wrapper.flush()
            wrapper.detach()  # leave a caller's file object open


def _check(fmt: str, encoding: str, languages: tuple[str, ...]) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown feed format {fmt!r} (known: {', '.join(FORMATS)})")
    if encoding.lower().replace("_", "-") not in ("utf-8", "utf8", "utf-8-sig", "cp1252", "windows-1252"):
        raise ValueError(f"unsupported encoding {encoding!r}: utf-8, utf-8-sig or cp1252")
    unknown = set(languages) - set(LANGUAGES)
    if unknown:
        raise ValueError(f"unknown languages {sorted(unknown)} (known: {', '.join(LANGUAGES)})")


def _write_delimited(f: IO[str], products: Iterator[_Product], languages: tuple[str, ...], delimiter: str) -> None:
    writer = csv.writer(f, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["id", "sku", "gtin", "mpn", "brand", *(f"title_{lang}" for lang in languages),
                     *(f"description_{lang}" for lang in languages), "price", "currency", "availability",
                     "quantity", "category", "color", "size", "updated_at"])
    batch: list[list[str]] = []
    for p in products:
        batch.append([p.id, p.sku, p.gtin, p.mpn, p.brand, *p.titles.values(), *p.descriptions.values(),
                      p.price, p.currency, p.availability, p.quantity, p.category, p.color, p.size, p.updated_at])
        if len(batch) >= _BATCH:
            writer.writerows(batch)
            batch.clear()
    writer.writerows(batch)


# The columns of Shopify's product CSV, in the order of its template.
SHOPIFY_COLUMNS = (
    "Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published",
    "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value", "Option3 Name", "Option3 Value",
    "Variant SKU", "Variant Grams", "Variant Inventory Tracker", "Variant Inventory Qty", "Variant Inventory Policy",
    "Variant Fulfillment Service", "Variant Price", "Variant Compare At Price", "Variant Requires Shipping",
    "Variant Taxable", "Variant Barcode", "Image Src", "Image Position", "Image Alt Text", "Gift Card", "SEO Title",
    "SEO Description", "Variant Image", "Variant Weight Unit", "Variant Tax Code", "Cost per item", "Status",
)
_SHOPIFY_VARIANTS = 3  # variant rows per product
_EMPTY_PRODUCT_CELLS = ("",) * 8


def _write_shopify(f: IO[str], products: Iterator[_Product], rows: int) -> None:
    """`rows` rows of a Shopify-style export: product i // 3 has variants i, i+1, i+2 (sizes), the first
    holding the product's cells; every fifth product (the first among them) ends with an image-only row.
    Every 50th variant (the second among them) is oversold (negative stock), every seventh is on sale (a
    compare-at price above its price). Bad rows
    (`bad_share`) have a wrong barcode check digit, a price that is not a number, or no SKU."""
    writer = csv.writer(f, lineterminator="\r\n")
    writer.writerow(SHOPIFY_COLUMNS)
    batch: list[tuple[str, ...]] = []
    written = 1
    handle = ""
    for i, p in enumerate(products):
        if written > rows:
            break
        position = i % _SHOPIFY_VARIANTS
        if position == 0:
            handle = f"product-{i // _SHOPIFY_VARIANTS + 1:08d}"
            title = next(iter(p.titles.values()))
            body = "".join(f"<p>{escape(d)}</p>" for d in list(p.descriptions.values())[:1])
            product = (handle, title, body, p.brand, p.category, "Apparel", f"{p.color}, {p.category}", "TRUE")
            options = ("Size", p.size, "Color", p.color, "", "")
            image = (f"https://cdn.example.com/{handle}/1.jpg", "1", title)
        else:
            product = (handle, *_EMPTY_PRODUCT_CELLS[1:])
            options = ("", p.size, "", p.color, "", "")
            image = ("", "", "")
        quantity = f"-{1 + i % 5}" if i % 50 == 1 else p.quantity
        compare_at = ""
        if i % 7 == 3 and p.price[:1].isdigit():  # on sale: the compare-at price is the one before
            whole, _, cents = p.price.partition(".")
            compare_at = f"{int(whole) + 10}.{cents}"
        grams = str(100 + (i * 37) % 2000)
        sku = p.sku if p.id else ""  # a bad row of the third kind has no id: here, no SKU
        batch.append((*product, *options, sku, grams, "shopify", quantity, "deny", "manual", p.price, compare_at,
                      "TRUE", "TRUE", p.gtin, *image, "FALSE", "", "", "", "kg", "", "", "active"))
        written += 1
        if position == _SHOPIFY_VARIANTS - 1 and (i // _SHOPIFY_VARIANTS) % 5 == 0 and written <= rows:
            batch.append((handle, *("",) * 24, f"https://cdn.example.com/{handle}/2.jpg", "2", "", *("",) * 8))
            written += 1
        if len(batch) >= _BATCH:
            writer.writerows(batch)
            batch.clear()
    writer.writerows(batch)


def _delimited_mapping(languages: tuple[str, ...], delimiter: str, decimal_comma: bool) -> dict[str, Any]:
    mapping: dict[str, Any] = {
        "external_id": "id", "sku": "sku", "gtin": "gtin", "mpn": "mpn", "brand": "brand", "price": "price",
        "currency": "currency", "availability": "availability", "quantity": "quantity",
        "source_updated_at": "updated_at",
        "title": {lang: f"title_{lang}" for lang in languages},
        "description": {lang: f"description_{lang}" for lang in languages},
        "attributes": ["category", "color", "size"],
        "defaults": {"currency": "EUR"},
    }
    if delimiter not in (",", "\t"):
        mapping["delimiter"] = delimiter
    if decimal_comma:
        mapping["decimal_comma"] = True
    return mapping


def _xml_declared(encoding: str) -> str:
    return "windows-1252" if encoding.lower() in ("cp1252", "windows-1252") else "UTF-8"


def _write_xml(f: IO[str], products: Iterator[_Product], encoding: str) -> None:
    f.write(f'<?xml version="1.0" encoding="{_xml_declared(encoding)}"?>\n'
            f'<catalog xmlns="{XML_NAMESPACE}" xmlns:g="{GOOGLE_NAMESPACE}" generated="sandbox">\n<products>\n')
    parts: list[str] = []
    for p in products:
        titles = "".join(f'<title xml:lang="{lang}">{escape(t)}</title>' for lang, t in p.titles.items())
        descriptions = "".join(f'<description xml:lang="{lang}">{escape(d)}</description>'
                               for lang, d in p.descriptions.items())
        parts.append(
            f"<product><g:id>{p.id}</g:id><sku>{p.sku}</sku><g:gtin>{p.gtin}</g:gtin><g:mpn>{p.mpn}</g:mpn>"
            f"<g:brand>{escape(p.brand)}</g:brand>{titles}{descriptions}"
            f'<g:price currency="{p.currency}">{escape(p.price)}</g:price>'
            f"<g:availability>{p.availability}</g:availability><stock>{p.quantity}</stock>"
            f"<attributes><category>{escape(p.category)}</category><color>{p.color}</color>"
            f"<size>{p.size}</size></attributes><updated>{p.updated_at}</updated></product>\n")
        if len(parts) >= _BATCH:
            f.write("".join(parts))
            parts.clear()
    f.write("".join(parts))
    f.write("</products>\n</catalog>\n")


def _xml_mapping(languages: tuple[str, ...]) -> dict[str, Any]:
    return {
        "record": "s:products/s:product",
        "namespaces": {"s": XML_NAMESPACE, "g": GOOGLE_NAMESPACE},
        "external_id": "g:id", "sku": "s:sku", "gtin": "g:gtin", "mpn": "g:mpn", "brand": "g:brand",
        "price": "g:price", "currency": "g:price/@currency", "availability": "g:availability",
        "quantity": "s:stock", "source_updated_at": "s:updated",
        "title": {lang: f"s:title[@xml:lang='{lang}']" for lang in languages},
        "description": {lang: f"s:description[@xml:lang='{lang}']" for lang in languages},
        "attributes": {"category": "s:attributes/s:category", "color": "s:attributes/s:color",
                       "size": "s:attributes/s:size"},
        "defaults": {"currency": "EUR"},
    }


def _json_record(p: _Product) -> dict[str, Any]:
    price: Any = p.price
    try:
        price = float(p.price)  # REST APIs send numbers; a bad row keeps its text
    except ValueError:
        pass
    return {
        "id": p.id, "sku": p.sku, "gtin": p.gtin, "mpn": p.mpn, "brand": p.brand,
        "title": p.titles, "description": p.descriptions,
        "price": {"amount": price, "currency": p.currency},
        "availability": p.availability, "stock": {"quantity": int(p.quantity)},
        "attributes": {"category": p.category, "color": p.color, "size": p.size},
        "updatedAt": p.updated_at,
    }


def _write_json(f: IO[str], products: Iterator[_Product], lines: bool) -> None:
    if not lines:
        f.write('{"meta": {"generator": "marketsync sandbox"}, "data": {"items": [\n')
    parts: list[str] = []
    first = True
    for p in products:
        doc = orjson.dumps(_json_record(p)).decode()
        if lines:
            parts.append(doc + "\n")
        else:
            parts.append(doc if first else ",\n" + doc)
            first = False
        if len(parts) >= _BATCH:
            f.write("".join(parts))
            parts.clear()
    f.write("".join(parts))
    if not lines:
        f.write("\n]}}\n")


def _json_mapping(languages: tuple[str, ...], lines: bool) -> dict[str, Any]:
    mapping: dict[str, Any] = {
        "external_id": "id", "sku": "sku", "gtin": "gtin", "mpn": "mpn", "brand": "brand",
        "price": "price.amount", "currency": "price.currency", "availability": "availability",
        "quantity": "stock.quantity", "source_updated_at": "updatedAt",
        "title": {lang: f"title.{lang}" for lang in languages},
        "description": {lang: f"description.{lang}" for lang in languages},
        "attributes": {"category": "attributes.category", "color": "attributes.color", "size": "attributes.size"},
        "defaults": {"currency": "EUR"},
    }
    if lines:
        mapping["json_lines"] = True
    else:
        mapping["record"] = "data.items"
    return mapping


# ---------------------------------------------------------------- public API

def generate(fmt: str, target: str | os.PathLike | IO[bytes], rows: int, *, seed: int = 1,
             encoding: str = "utf-8", bad_share: float = 0.0, quoted_newlines: bool = True,
             languages: tuple[str, ...] = ("en", "de"), decimal_comma: bool = False,
             changed_share: float = 0.0, change_round: int = 1) -> dict[str, Any]:
    """Write a feed of `rows` products in `fmt` (csv, tsv, xml, json, ndjson) to `target` (a path or a
    binary file object) and return its default mapping. `changed_share`/`change_round` are what
    `mutate` uses: a changed row's price rises by `change_round` euros and its stock by as many units."""
    languages = tuple(languages)
    _check(fmt, encoding, languages)
    products = _products(rows, seed, languages, bad_share, quoted_newlines, changed_share, change_round,
                         decimal_comma and fmt in ("csv", "tsv"))
    with _text(target, encoding) as f:
        if fmt == "shopify":
            _write_shopify(f, products, rows)
            return None  # type: ignore[return-value]  # read with the shopify-products preset
        if fmt in ("csv", "tsv"):
            delimiter = "\t" if fmt == "tsv" else ","
            _write_delimited(f, products, languages, delimiter)
            return _delimited_mapping(languages, delimiter, decimal_comma)
        if fmt == "xml":
            _write_xml(f, products, encoding)
            return _xml_mapping(languages)
        _write_json(f, products, lines=fmt == "ndjson")
        return _json_mapping(languages, lines=fmt == "ndjson")


def mutate(fmt: str, target: str | os.PathLike | IO[bytes], rows: int, share: float = 0.01, *,
           change_round: int = 1, **options: Any) -> dict[str, Any]:
    """The feed `generate(fmt, target, rows, **options)` writes, with `share` of its rows changed
    (`count_changed(rows, share)` of them, spread evenly): what a supplier's next export looks like.
    Successive rounds (change_round=2, 3, ...) change the same rows again."""
    return generate(fmt, target, rows, changed_share=share, change_round=change_round, **options)


def source_format(fmt: str) -> str:
    """The ops.catalog_sources.format of a generated feed (NDJSON is 'json' with `json_lines`)."""
    return {"ndjson": "json", "shopify": "csv"}.get(fmt, fmt)


def write_csv(target, rows: int, **options: Any) -> dict[str, Any]:
    """A comma-separated feed; see `generate`."""
    return generate("csv", target, rows, **options)


def write_tsv(target, rows: int, **options: Any) -> dict[str, Any]:
    """A tab-separated feed (Google Shopping style); see `generate`."""
    return generate("tsv", target, rows, **options)


def write_xml(target, rows: int, **options: Any) -> dict[str, Any]:
    """A namespaced XML feed; see `generate`."""
    return generate("xml", target, rows, **options)


def write_json(target, rows: int, **options: Any) -> dict[str, Any]:
    """A REST-style JSON document, records under data.items; see `generate`."""
    return generate("json", target, rows, **options)


def write_ndjson(target, rows: int, **options: Any) -> dict[str, Any]:
    """Newline-delimited JSON, one record per line; see `generate`."""
    return generate("ndjson", target, rows, **options)


WRITERS: dict[str, Callable[..., dict[str, Any]]] = {
    "csv": write_csv, "tsv": write_tsv, "xml": write_xml, "json": write_json, "ndjson": write_ndjson,
}
