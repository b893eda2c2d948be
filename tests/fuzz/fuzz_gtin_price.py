"""Fuzz the value parsers every catalog row goes through: GTINs (normalize_gtin and the mapping's fast
path), prices, stock figures, currencies, timestamps, lists, weights and the other shop-export extras.

Contract: a value is read or refused in words (`Rejected`, or a Gtin with a `problem`), never another
exception; and what the docstrings promise holds for what is accepted: a GTIN-14 is 14 ASCII digits,
not all zeros, with a valid GS1 check digit; a price is a finite Decimal from 0 to below 10^10 (after
numeric(14, 4) rounding) with a three-letter currency or none; a quantity fits the integer column.

The first byte picks the parser; the rest is the value: its UTF-8 text, or with the second byte odd and
the text valid JSON, the JSON value (feeds in JSON give numbers, lists and nulls as well).

    python -m tests.fuzz.fuzz_gtin_price -max_total_time=60 tests/fuzz/corpus/gtin_price
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tests.fuzz.common import fuzz, instrumented

with instrumented(__name__ == "__main__"):
    from marketsync.assets.catalog.gtin import gs1_check_digit, normalize_gtin
    from marketsync.assets.feeds.mapping import extras
    from marketsync.assets.feeds.mapping.copy_text import price_text, timestamp_text
    from marketsync.assets.feeds.mapping.parsers import (
        PRICE_LIMIT,
        QUANTITY_LIMIT,
        Rejected,
        _gtin,
        parse_currency,
        parse_list,
        parse_price,
        parse_product_type,
        parse_quantity,
        parse_timestamp,
        whole_number,
    )

HINTS = (None, "ean", "upc", "isbn", "gtin14", "ISBN-10", "jan", "unknown")


def _check_gtin14(gtin14: str) -> None:
    assert len(gtin14) == 14 and gtin14.isascii() and gtin14.isdigit(), gtin14
    assert gtin14.strip("0"), gtin14
    assert int(gtin14[-1]) == gs1_check_digit(gtin14[:-1]), gtin14


def _gtins(text: str, hint: str | None) -> None:
    code = normalize_gtin(text, hint)
    if code.gtin14 is not None:
        assert code.problem is None
        _check_gtin14(code.gtin14)
    try:
        fast = _gtin(text, hint)
    except Rejected:
        assert code.problem is not None
        return
    assert fast == code.gtin14, (text, hint, fast, code)


def _price(value: Any, decimal_comma: bool) -> None:
    try:
        amount, currency = parse_price(value, decimal_comma)
    except Rejected as exc:
        assert str(exc)
        return
    assert amount.is_finite() and amount >= 0, amount
    assert amount.quantize(Decimal("0.0001"), ROUND_HALF_UP) < PRICE_LIMIT, amount
    assert currency is None or (len(currency) == 3 and currency.isascii() and currency.isalpha()), currency
    text, _ = price_text(value, decimal_comma)
    assert Decimal(text) == amount


def _quantity(value: Any) -> None:
    try:
        number = whole_number(value)
    except Rejected:
        return
    # (Only the upper bound is promised: a negative figure is clamped to 0 or refused by its callers.)
    assert isinstance(number, int) and number <= QUANTITY_LIMIT, number
    try:
        assert 0 <= parse_quantity(value) <= QUANTITY_LIMIT
    except Rejected:
        assert number < 0
    quantity, note = extras.signed_quantity(value, clamp=True)
    assert quantity >= 0 and (note is None) == (number >= 0)


def _timestamp(value: Any) -> None:
    try:
        moment = parse_timestamp(value)
    except Rejected:
        pass
    else:
        # Aware, and with an offset Postgres stores (up to 15:59 either way; Python reads up to a day).
        offset = moment.utcoffset()
        assert offset is not None and abs(offset) < timedelta(hours=16), moment
    try:
        text = timestamp_text(value)
    except Rejected:
        return
    parsed = datetime.fromisoformat(text)
    assert parsed.utcoffset() is None or abs(parsed.utcoffset()) < timedelta(hours=16), text


def _words(value: Any) -> None:
    for parse in (parse_currency, parse_product_type):
        try:
            parse(value)
        except Rejected:
            pass
    try:
        word = extras.availability_word(value, {"1": "in_stock", "0": "out_of_stock"})
    except Rejected:
        word = None
    assert word is None or word in extras.AVAILABILITY_WORDS
    try:
        extras.quantity_for_availability(value, {"in_stock": 5, "out_of_stock": 0, "preorder": "unknown"})
    except Rejected:
        pass


def _weight(value: Any, flags: int) -> None:
    unit = (None, "g", "kg", "lb")[flags % 4]
    try:
        grams = extras.weight_grams(value, unit, bool(flags & 4))
    except Rejected:
        return
    assert grams is None or 0 <= grams < 10**9


def _lists(value: Any, text: str) -> None:
    try:
        parse_list(value, ",")
        extras.image_urls([value, text], "|")
        extras.option_attributes([(value, text), (text, value)])
    except Rejected:
        pass
    extras.plain_text(text)


def TestOneInput(data: bytes) -> None:
    if len(data) < 2:
        return
    which, flags, rest = data[0] % 7, data[1], data[2:]
    text = rest.decode("utf-8", "replace")
    value: Any = text
    if flags & 1:
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            return
    if which == 0:
        _gtins(text, HINTS[flags % len(HINTS)])
    elif which == 1:
        _price(value, bool(flags & 2))
    elif which == 2:
        _quantity(value)
    elif which == 3:
        _timestamp(value)
    elif which == 4:
        _words(value)
    elif which == 5:
        _weight(value, flags >> 1)
    else:
        _lists(value, text)


if __name__ == "__main__":
    fuzz(TestOneInput)
