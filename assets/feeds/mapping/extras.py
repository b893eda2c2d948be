"""The values shop exports carry beyond the catalog's columns, read for the catalog: availability words as a
stock quantity, negative stock, weights with units, several images in one cell, option name/value pairs,
and HTML descriptions as plain text. Each reader raises `Rejected` with the reason worded for the merchant.

These run on the slow path of a record (the compiled mapping calls them only when the mapping names the
field, and only for the rows that need them), so they favour clarity over speed, except `plain_text`,
which remembers its recent answers: the rows of one product share their description.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from html import unescape
from typing import Any

from marketsync.assets.feeds.mapping.parsers import Rejected, _text, parse_price, whole_number
from marketsync.resources.scrubbing import excerpt

# The availability words a mapping may give a quantity for (Google Merchant Center's values, which
# schema.org's ItemAvailability and the shop exports' words are read as).
AVAILABILITY_WORDS = ("in_stock", "out_of_stock", "preorder", "backorder", "limited_availability")
_SCHEMA_ORG = {"instock": "in_stock", "outofstock": "out_of_stock", "preorder": "preorder",
               "presale": "preorder", "backorder": "backorder", "limitedavailability": "limited_availability",
               "soldout": "out_of_stock", "discontinued": "out_of_stock"}
# "unknown" in a mapping's availability_quantity: the word says nothing about how many (stored as NULL).
UNKNOWN = "unknown"
NEGATIVE_STOCK_POLICIES = ("clamp", "quarantine")

# Grams per unit; the spellings shop exports use.
WEIGHT_UNITS = {"g": Decimal(1), "gram": Decimal(1), "grams": Decimal(1), "kg": Decimal(1000),
                "kilogram": Decimal(1000), "kilograms": Decimal(1000), "lb": Decimal("453.59237"),
                "lbs": Decimal("453.59237"), "pound": Decimal("453.59237"), "pounds": Decimal("453.59237"),
                "oz": Decimal("28.349523125"), "ounce": Decimal("28.349523125"), "ounces": Decimal("28.349523125")}
_WEIGHT = re.compile(r"^\s*([0-9][0-9.,\s]*)\s*([A-Za-z]*)\.?\s*$")
_UNIT_IN_NAME = re.compile(r"\(\s*([A-Za-z]+)\s*\)\s*$")
_TENTH = Decimal("0.1")
_WEIGHT_LIMIT = Decimal(10) ** 9  # a billion grams: a typo, not a parcel


def availability_word(raw: Any, words: dict[str, str] | None = None) -> str | None:
    """A feed's availability as one of AVAILABILITY_WORDS, or None when it is none of them:
    "in stock", "In-Stock", "https://schema.org/InStock" and "InStock" all read as in_stock. `words`, a
    mapping's availability_words, says what the feed's own words mean ({"1": "in_stock", "0":
    "out_of_stock"} for a stock flag), matched without regard to case; nothing else is guessed."""
    text = _text(raw)
    if not text:
        return None
    own = words.get(text.lower()) if words else None  # (the compiled mapping passes the table lowered)
    if own:
        return own
    word = text.rsplit("/", 1)[-1].strip().lower().replace(" ", "_").replace("-", "_")
    if word in AVAILABILITY_WORDS:
        return word
    return _SCHEMA_ORG.get(word.replace("_", ""))


def quantity_for_availability(raw: Any, table: dict[str, Any], words: dict[str, str] | None = None) -> int | None:
    """The quantity a mapping's availability_quantity gives the row's availability word (None: unknown)."""
    word = availability_word(raw, words)
    value = table.get(word) if word else None
    return None if value is None or value == UNKNOWN else int(value)


def signed_quantity(raw: Any, clamp: bool) -> tuple[int, str | None]:
    """Stock that may be negative (an oversold variant): (quantity, note). With `clamp` a negative stock
    loads as 0 and the note says what the feed said; otherwise it is Rejected."""
    value = whole_number(raw)
    if value < 0:
        if not clamp:
            raise Rejected(f"negative stock {value} (the feed's negative_stock is 'quarantine')")
        return 0, f"the feed said {value}; loaded as 0"
    return value, None


def unit_in_column_name(name: str) -> str | None:
    """The weight unit a column's name states, as in WooCommerce's "Weight (kg)"; None if it states none."""
    match = _UNIT_IN_NAME.search(name)
    unit = match.group(1).lower() if match else None
    return unit if unit in WEIGHT_UNITS else None


def weight_grams(raw: Any, unit: str | None, decimal_comma: bool) -> float | int | None:
    """A weight in grams (to 0.1 g) from "1.5 kg", "300", "2,5" (decimal comma) with `unit` the unit of a
    bare number; None when empty; Rejected when it is not a weight or has no unit at all."""
    if type(raw) in (int, float) and type(raw) is not bool:
        number, written = Decimal(repr(raw) if type(raw) is float else raw), ""
    else:
        text = _text(raw)
        if not text:
            return None
        match = _WEIGHT.match(text)
        if not match:
            raise Rejected(f"weight {excerpt(text)} is not a number with a unit")
        number = parse_price(match.group(1), decimal_comma)[0]
        written = match.group(2).lower()
    if written and written not in WEIGHT_UNITS:
        raise Rejected(f"weight unit {excerpt(written)} is not one of g, kg, lb, oz")
    factor = WEIGHT_UNITS.get(written or (unit or ""))
    if factor is None:
        raise Rejected(f"weight {excerpt(raw)} has no unit (set the mapping's weight_unit)")
    if not number.is_finite() or number < 0:
        raise Rejected(f"weight {excerpt(raw)} is not a weight")
    # The limit is checked before rounding: a number of more digits than the context's precision
    # cannot be rounded to a tenth at all (a JSON feed's integer may have hundreds).
    grams = number * factor
    if grams >= _WEIGHT_LIMIT:
        raise Rejected(f"weight {excerpt(raw)} is too large")
    grams = grams.quantize(_TENTH, ROUND_HALF_UP)
    if grams >= _WEIGHT_LIMIT:
        raise Rejected(f"weight {excerpt(raw)} is too large")
    return int(grams) if grams == grams.to_integral_value() else float(grams)


def image_urls(cells: list[Any], separator: str) -> list[str]:
    """Every image URL in the cells, in order, once each (a cell may list several, split by `separator`)."""
    urls: dict[str, None] = {}
    for cell in cells:
        if cell is None or cell == "":
            continue
        items = cell if isinstance(cell, list) else str(cell).split(separator)
        for item in items:
            url = _text(item)
            if url:
                urls[url] = None
    return list(urls)


def option_attributes(pairs: list[tuple[Any, Any]]) -> dict[str, str]:
    """Option name/value cells as attributes ({"Size": "M"}); Shopify's "Title"/"Default Title", the one
    option of a product without variants, says nothing and adds nothing."""
    options = {}
    for name, value in pairs:
        name, value = _text(name), _text(value)
        if name and value and not (name == "Title" and value == "Default Title"):
            options[name] = value
    return options


# Plain text from HTML with regular expressions and the standard library's entity table: a supplier's
# description is a fragment of simple markup, and this runs on a million rows (an HTML parser costs ten
# times as much per row). Script and style content and comments go first, then every tag; the tags that
# end a block of text become line breaks.
_INVISIBLE = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_BLOCK_TAG = re.compile(r"<(?:br|/?(?:p|div|li|tr|h[1-6]|ul|ol|table|section|article|blockquote|pre|dd|dt))\b[^>]*>",
                        re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z!?][^>]*>")
# An HTML entity: what makes text with an ampersand and no tag markup.
ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_SPACES = re.compile(r"[ \t\u00a0]+")


@lru_cache(maxsize=512)
def plain_text(markup: str) -> str | None:
    """An HTML description as plain text: tags removed, entities decoded, block elements and <br> as
    line breaks (one per block, no blank lines), runs of spaces as one. None when the text is plain
    already (nothing to offer)."""
    # Line breaks in the markup are spaces, as a browser shows them; the block tags make the lines.
    text = _BLOCK_TAG.sub("\n", _INVISIBLE.sub("", markup).replace("\r", " ").replace("\n", " "))
    text = unescape(_TAG.sub("", text))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    result = "\n".join(line for line in lines if line) or None
    return None if result == markup.strip() else result
