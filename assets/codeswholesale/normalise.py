"""A CodesWholesale price-list item as a canonical catalog product.

What a CodesWholesale product is to the store: a digital key for one platform (Steam, Xbox Live, ...),
usable in some regions and languages, with a stock quantity and a price that drops with the number
of keys bought at once. The canonical `price` is what one key costs (the tier that covers a quantity
of 1); every tier is kept in `attributes.price_tiers` because reorders of ten or fifty keys are
priced from them. Prices are Decimals from the JSON numbers' shortest text, never binary floats.

Identifiers: `external_id` = productId (the API's key), `sku` = identifier (CodesWholesale's product
code), `gtin14` when the record carries a barcode (check digit verified). A record that cannot be
trusted is refused with a reason worded for the merchant, and the caller quarantines it.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from marketsync.assets.catalog.gtin import normalize_gtin

# CodesWholesale names languages in English ("German"); the catalog keeps ISO 639-1 codes where known.
LANGUAGE_CODES = {
    "english": "en", "german": "de", "french": "fr", "spanish": "es", "italian": "it", "polish": "pl",
    "portuguese": "pt", "dutch": "nl", "czech": "cs", "russian": "ru", "turkish": "tr", "japanese": "ja",
    "chinese": "zh", "korean": "ko", "swedish": "sv", "danish": "da", "finnish": "fi", "norwegian": "no",
    "hungarian": "hu", "romanian": "ro", "greek": "el", "ukrainian": "uk", "arabic": "ar",
    # ISO 639-2 "multiple languages": the key's game ships in several, unspecified.
    "multilanguage": "mul", "multi": "mul",
}
_TWO_LETTERS = frozenset(LANGUAGE_CODES.values()) - {"mul"}


class RefusedProduct(ValueError):
    """The record cannot be loaded; the message says why, for the merchant."""


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise RefusedProduct(f"{what} is missing")
    try:
        # repr of a float is its shortest round-tripping text: 6.32 stays 6.32, not 6.3200000000000002842.
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        raise RefusedProduct(f"{what} '{value}' is not a number") from None
    if not number.is_finite() or number < 0:
        raise RefusedProduct(f"{what} '{value}' is not a price")
    return number


_WHOLE_LIMIT = 2**31  # quantities and tier bounds are integer columns and JSON attributes


def _whole(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise RefusedProduct(f"{what} '{value}' is not a whole number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # (a JSON integer beyond 64 bits arrives as a float: 1e+117)
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        # (ASCII only: str.isdigit() also takes "²", which int() refuses)
        text = value.strip()
        value = int(text) if len(text) <= 12 else _WHOLE_LIMIT
    if not isinstance(value, int):
        raise RefusedProduct(f"{what} '{value}' is not a whole number")
    if not -_WHOLE_LIMIT < value < _WHOLE_LIMIT:
        raise RefusedProduct(f"{what} is out of range")
    return value


def price_tiers(prices: Any) -> list[dict]:
    """The quantity tiers `{from, to, price}` sorted by `from`; `to` None = no upper bound."""
    if prices is None:
        return []
    if not isinstance(prices, list):
        raise RefusedProduct("prices is not a list of tiers")
    tiers = []
    for tier in prices:
        if not isinstance(tier, dict):
            raise RefusedProduct("a price tier is not an object")
        start = _whole(tier.get("from"), "a price tier's 'from'")
        end = _whole(tier.get("to"), "a price tier's 'to'")
        price = _decimal(tier.get("value"), "a price tier's value")
        start = 1 if start is None else start
        if end is not None and end < start:
            raise RefusedProduct(f"price tier from {start} to {end} is empty")
        tiers.append({"from": start, "to": end, "price": price})
    tiers.sort(key=lambda t: t["from"])
    return tiers


def unit_price(tiers: list[dict]) -> Decimal | None:
    """What one key costs: the tier covering a quantity of 1, if any."""
    for tier in tiers:
        if tier["from"] <= 1 and (tier["to"] is None or tier["to"] >= 1):
            return tier["price"]
    return None


def language_code(name: str) -> str:
    text = name.strip()
    lowered = text.lower()
    if lowered in _TWO_LETTERS:
        return lowered
    return LANGUAGE_CODES.get(lowered, text)


def _strings(value: Any, what: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RefusedProduct(f"{what} is not a list of names")
    return [v.strip() for v in value if v.strip()]


def _localized_titles(item: dict, external_id: str) -> list[tuple]:
    """Titles in other languages, when the record carries them (`localizedTitles`: a list of
    {language|territory, title|localizedTitle}); only entries naming a known language are kept."""
    entries = item.get("localizedTitles")
    if not isinstance(entries, list):
        return []
    rows = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        code = language_code(str(entry.get("language") or entry.get("territory") or ""))
        title = entry.get("title") or entry.get("localizedTitle")
        if code in _TWO_LETTERS and isinstance(title, str) and title.strip():
            rows.append((external_id, code, title.strip(), None))
    return rows


def normalise_product(item: Any, *, currency: str = "EUR", name_language: str = "en") -> tuple[tuple, list[tuple]]:
    """(product tuple in PRODUCT_COLUMNS order, translation tuples) for one `/v3/products` item.

    Raises RefusedProduct when the record cannot be loaded as it is.
    """
    if not isinstance(item, dict):
        raise RefusedProduct("the record is not an object")
    external_id = item.get("productId")
    if not isinstance(external_id, str) or not external_id.strip():
        raise RefusedProduct("the record has no productId")
    external_id = external_id.strip()

    barcode = item.get("gtin") or item.get("ean")
    gtin14 = None
    if barcode:
        gtin = normalize_gtin(str(barcode))
        if gtin.problem:
            raise RefusedProduct(gtin.problem)
        gtin14 = gtin.gtin14

    tiers = price_tiers(item.get("prices"))
    quantity = _whole(item.get("quantity"), "quantity")
    if quantity is not None and quantity < 0:
        quantity = 0  # an oversold product is simply out of stock for us
    platform = item.get("platform")
    platform = platform.strip() if isinstance(platform, str) and platform.strip() else None
    regions = _strings(item.get("regions"), "regions")
    languages = _strings(item.get("languages"), "languages")
    languages = [language_code(name) for name in languages] if languages is not None else None

    attributes: dict[str, Any] = {
        "price_tiers": [{"from": t["from"], "to": t["to"], "price": str(t["price"])} for t in tiers],
    }
    images = item.get("images")
    if isinstance(images, list):
        attributes["images"] = {str(i.get("format") or "").lower() or str(n): i.get("image")
                                for n, i in enumerate(images) if isinstance(i, dict) and i.get("image")}
    badges = item.get("badges")
    if isinstance(badges, list) and badges:
        attributes["badges"] = [b.get("slug") or b.get("name") for b in badges if isinstance(b, dict)]
    for source, target in (("regionDescription", "region_description"), ("releaseDate", "release_date")):
        if item.get(source):
            attributes[target] = item[source]

    sku = item.get("identifier")
    product = (
        external_id, gtin14, sku.strip() if isinstance(sku, str) and sku.strip() else None, None, None,
        unit_price(tiers), currency if tiers else None,
        None if quantity is None else "in_stock" if quantity > 0 else "out_of_stock", quantity, "digital", platform,
        regions, languages,
        orjson.dumps(attributes).decode(), None,
    )
    translations = []
    name = item.get("name")
    if isinstance(name, str) and name.strip():
        translations.append((external_id, name_language, name.strip(), None))
    translations.extend(t for t in _localized_titles(item, external_id) if t[1] != name_language)
    return product, translations
