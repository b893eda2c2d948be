"""Fuzz a supplier feed file through its reader and mapping, as the loader stages it (without the
database): `staging.prepare` (reader + compiled mapping, row rules for CSV) and `Stager.run`, with the
shop presets' mappings and plain ones for CSV, TSV, XML, JSON and NDJSON.

Contract: for any file, rows come out or records go to the quarantine (`add_bad`, with a reason), or the
whole file is refused with a worded MarketsyncError (not a feed, not well-formed, no header...); no other
exception. Every COPY line has exactly the stage's columns, so a staged row can never break the COPY.

The first byte picks the feed's format and mapping, the second its declared encoding; the rest is the file.

    python -m tests.fuzz.fuzz_feed_readers -max_total_time=60 tests/fuzz/corpus/feed_readers
"""
from __future__ import annotations

import copy
import io
from typing import Any

from tests.fuzz.common import fuzz, instrumented

with instrumented(__name__ == "__main__"):
    from marketsync.assets.feeds.presets import get_preset
    from marketsync.assets.feeds.staging import Stager, prepare
    from marketsync.resources.errors import MarketsyncError

_PLAIN_CSV = {
    "external_id": "id", "gtin": "ean", "sku": "sku", "mpn": "mpn", "brand": "brand", "price": "price",
    "currency": "currency", "availability": "availability", "quantity": "stock", "product_type": "type",
    "platform": "platform", "regions": "regions", "languages": "languages", "source_updated_at": "updated_at",
    "title": {"en": "title_en", "de": "title_de"}, "description": {"en": "description_en"},
    "attributes": ["color", "size"], "defaults": {"currency": "EUR"}, "list_separator": ",",
    "weight": "weight", "weight_unit": "kg", "images": "images", "image_separator": "|",
    "optional": ["gtin", "mpn", "brand", "currency", "availability", "quantity", "product_type", "platform",
                 "regions", "languages", "source_updated_at", "title.de", "description.en", "attributes.color",
                 "attributes.size", "weight", "images"],
}
_PLAIN_JSON = {
    "record": "data.items", "external_id": "id", "gtin": "ean", "sku": "sku", "price": "price.amount",
    "currency": "price.currency", "quantity": "stock", "source_updated_at": "updated_at",
    "title": {"en": "title.en", "de": "title.de"}, "description": {"en": "description"},
    "attributes": {"color": "color", "first_image": "images.0.url"}, "regions": "regions",
    "availability": "availability", "sale_price": "sale_price", "weight": "weight", "weight_unit": "g",
}
_PLAIN_XML = {
    "record": "products/product", "external_id": "@id", "gtin": "ean", "sku": "sku", "price": "price",
    "currency": "price/@currency", "quantity": "stock", "title": {"en": "title[@lang='en']", "de": "title[@lang='de']"},
    "description": {"en": "description"}, "attributes": {"color": "attributes/color"},
    "source_updated_at": "updated",
}


def _preset(name: str) -> tuple[str, dict[str, Any], str | None]:
    preset = get_preset(name)
    return preset["format"], copy.deepcopy(preset["mapping"]), preset.get("encoding")


# (format, mapping, encoding): the first byte of the input picks one.
FEEDS: list[tuple[str, dict[str, Any], str | None]] = [
    ("csv", _PLAIN_CSV, None),
    ("tsv", _PLAIN_CSV, None),
    ("json", _PLAIN_JSON, None),
    ("json", {**_PLAIN_JSON, "record": "", "json_lines": True}, None),
    ("xml", _PLAIN_XML, None),
    _preset("google-merchant-tsv"),
    _preset("google-merchant-xml"),
    _preset("shopify-products"),
    _preset("woocommerce-products"),
    _preset("magento-products"),
    _preset("prestashop-products"),
    ("csv", {"external_id": "id", "price": "price", "delimiter": ";", "decimal_comma": True,
             "quotechar": "'", "gtin": "ean", "gtin_type": "isbn", "quantity": "stock",
             "negative_stock": "quarantine", "required": ["quantity"]}, None),
]
ENCODINGS = (None, "utf-8", "cp1252", "iso-8859-15")


def stage(fmt: str, mapping: dict[str, Any], encoding: str | None, content: bytes) -> tuple[int, int]:
    """(rows staged, records quarantined) of one feed file; MarketsyncError if the file is refused."""
    bad: list[tuple[int, str, str]] = []

    def add_bad(position: int, raw: str, reason: str) -> None:
        assert isinstance(position, int) and isinstance(raw, str) and reason, (position, raw, reason)
        bad.append((position, raw, reason))

    lines: list[str] = []

    def write(data: bytes, rows: int) -> None:
        text = data.decode("utf-8")
        batch = text.split("\n")
        assert batch[-1] == "" and len(batch) - 1 == rows, (rows, text[:200])
        lines.extend(batch[:-1])

    source = {"name": "fuzz", "format": fmt, "mapping": copy.deepcopy(mapping), "encoding": encoding}
    reader, compiled = prepare(source, io.BytesIO(content), add_bad)
    staged = Stager(compiled, reader, write, add_bad).run()
    columns = len(compiled.stage_columns)
    for line in lines:
        assert line.count("\t") == columns - 1, (columns, line[:300])
    assert staged == len(lines)
    return staged, len(bad)


def TestOneInput(data: bytes) -> None:
    if len(data) < 2:
        return
    fmt, mapping, default_encoding = FEEDS[data[0] % len(FEEDS)]
    encoding = ENCODINGS[data[1] % len(ENCODINGS)] or default_encoding
    try:
        stage(fmt, mapping, encoding, data[2:])
    except MarketsyncError as exc:
        assert str(exc)


if __name__ == "__main__":
    fuzz(TestOneInput)
