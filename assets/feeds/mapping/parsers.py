"""A supplier's values read as the catalog's: prices, stock, currencies, product types, timestamps, lists,
GTINs, and a mapping's defaults. Each parser raises `Rejected` with the reason worded for the merchant."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from marketsync.assets.catalog.gtin import normalize_gtin
from marketsync.resources.scrubbing import excerpt

PRODUCT_TYPES = {"physical": "physical", "digital": "digital", "virtual": "digital", "download": "digital",
                 "downloadable": "digital", "key": "digital"}
CURRENCY_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "CHF": "CHF", "Fr.": "CHF", "zł": "PLN", "kr": "SEK"}
PRICE_LIMIT = Decimal(10) ** 10       # numeric(14, 4)
_PRICE_STEP = Decimal("0.0001")
QUANTITY_LIMIT = 2**31 - 1            # integer


class Rejected(Exception):
    """A record that cannot become a catalog row; the message is the reason for the quarantine."""


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
        raise Rejected(f"price {excerpt(raw)} is not a number")
    else:
        value, currency = _price_text(raw, decimal_comma)
    if not value.is_finite():
        raise Rejected(f"price {excerpt(raw)} is not a number")
    if value < 0:
        raise Rejected(f"price {excerpt(raw)} is negative")
    if value >= PRICE_LIMIT or value.quantize(_PRICE_STEP, ROUND_HALF_UP) >= PRICE_LIMIT:
        # (rounded as numeric(14, 4) rounds: half away from zero)
        raise Rejected(f"price {excerpt(raw)} is too large")
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
        raise Rejected(f"price {excerpt(raw.strip())} is not a number")
    try:
        return Decimal(text), currency
    except InvalidOperation:
        raise Rejected(f"price {excerpt(raw.strip())} is not a number") from None


def _thousands(text: str, separator: str) -> bool:
    # "1,234" or "12.345.678": every group after a separator has exactly three digits.
    groups = text.split(separator)
    return all(len(g) == 3 and g.isdigit() for g in groups[1:]) and groups[0].lstrip("+-").isdigit()


def parse_quantity(raw: Any) -> int:
    """Stock as a non-negative integer ("5", 5, "5.0"); Rejected otherwise."""
    value = whole_number(raw)
    if value < 0:
        raise Rejected(f"quantity {value} is negative")
    return value


def whole_number(raw: Any) -> int:
    """A stock figure as an integer, of either sign ("5", 5, "5.0", "-3"), no larger than the column
    holds; Rejected otherwise."""
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
                raise Rejected(f"quantity {excerpt(text)} is not a whole number") from None
            if not number.is_finite() or number != number.to_integral_value():
                raise Rejected(f"quantity {excerpt(text)} is not a whole number") from None
            if number.copy_abs() > QUANTITY_LIMIT:
                # Before int(): "1E999999999" is a whole number too, of a billion digits.
                raise Rejected(f"quantity {excerpt(text, 40)} is out of range") from None
            value = int(number)
    else:
        raise Rejected(f"quantity {excerpt(raw)} is not a whole number")
    if value > QUANTITY_LIMIT:
        # (An integer of thousands of digits cannot even be turned into text: Python refuses.)
        shown = value if value.bit_length() <= 128 else "of more than 38 digits"
        raise Rejected(f"quantity {shown} is too large")
    return value


def parse_currency(raw: Any) -> str:
    text = _text(raw)
    code = CURRENCY_SYMBOLS.get(text, text.upper()) if text else text
    if not (code and len(code) == 3 and code.isascii() and code.isalpha()):
        raise Rejected(f"currency {excerpt(raw)} is not a three-letter ISO 4217 code")
    return code


def parse_product_type(raw: Any) -> str:
    text = _text(raw)
    kind = PRODUCT_TYPES.get(text.lower()) if text else None
    if kind is None:
        raise Rejected(f"product type {excerpt(raw)} is neither physical nor digital")
    return kind


def parse_timestamp(raw: Any) -> datetime:
    """When the supplier says the record changed: ISO 8601 (a zone-less time is UTC) or Unix seconds."""
    if type(raw) in (int, float) or (type(raw) is str and raw.strip().isdigit()):
        try:
            return datetime.fromtimestamp(float(raw), UTC)
        except (OverflowError, OSError, ValueError):
            raise Rejected(f"timestamp {excerpt(raw)} is out of range") from None
    if type(raw) is not str:
        raise Rejected(f"timestamp {excerpt(raw)} is not a date and time")
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise Rejected(f"timestamp {excerpt(raw.strip())} is not an ISO 8601 date and time") from None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        # In UTC: Python reads offsets up to a day ("-20:47"), which Postgres refuses (up to 15:59), and
        # one refused value would fail the whole COPY of the feed.
        return value.astimezone(UTC)
    except OverflowError:
        raise Rejected(f"timestamp {excerpt(raw.strip())} is out of range") from None


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
