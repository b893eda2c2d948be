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

Shop exports need more, in any mapping (see the README's table and `extras`, `rows_schema`,
`assets.feeds.grouping`): a list of fields where one is expected (alternatives: the first the feed has),
"sale_price", "images" and "image_separator", "weight" and "weight_unit", "availability_quantity",
"negative_stock" ("clamp", the default, or "quarantine"), "option_pairs", "skip" and "group" (rows that
are no product, rows that continue another), and "preset" (which preset the mapping came from). An HTML
description is kept, and its plain text offered beside it.

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

The modules, by concern:
- `schema`: what a mapping may say, `mapping_problems` and `validate_mapping`, the fields it reads;
- `parsers`: a supplier's values (prices, stock, currencies, timestamps, GTINs...) read or `Rejected`;
- `copy_text`: values as the COPY text the feed stage is loaded in;
- `xpath`: the XPath subset read in Python, without libxml2's XPath;
- `refs`: a field reference, or a list of alternatives;
- `extras`: availability words, negative stock, weights, images, options and plain text read or `Rejected`;
- `rows_schema`: what a mapping may say about those and about rows (skip, group);
- `codegen`: `compile_mapping`, which writes and compiles the record functions of one feed.
"""
from __future__ import annotations

from marketsync.assets.feeds.mapping.codegen import CompiledMapping, compile_mapping
from marketsync.assets.feeds.mapping.copy_text import pg_array
from marketsync.assets.feeds.mapping.parsers import Rejected, parse_price
from marketsync.assets.feeds.mapping.schema import _refs as _refs  # (the XML extraction tests compare with it)
from marketsync.assets.feeds.mapping.schema import mapping_problems, validate_mapping
from marketsync.assets.feeds.mapping.xpath import XML_NAMESPACE, simple_xpath

__all__ = [
    "XML_NAMESPACE",
    "CompiledMapping",
    "Rejected",
    "compile_mapping",
    "mapping_problems",
    "parse_price",
    "pg_array",
    "simple_xpath",
    "validate_mapping",
]
