"""The stock file a channel reads: one row per listing, `id,quantity,availability`, UTF-8, RFC 4180.

Merchants open these files in spreadsheets, where a cell starting with `=`, `+`, `-` or `@` (or a tab
or carriage return) is run as a formula; such cells are written with a leading apostrophe, the
escaping spreadsheet programs and OWASP recommend. Quantities are never negative, so only ids can be
affected; the receiving side reads `'-SKU` as `-SKU`.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

HEADER = ("id", "quantity", "availability")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def inventory_csv(rows: Iterable[tuple[str, int]], delimiter: str = ",") -> bytes:
    """The file for (sku, quantity) rows; availability in Google Shopping's words, which Letzshop's
    product feed uses."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows((escape_cell(sku), quantity, "in_stock" if quantity > 0 else "out_of_stock")
                     for sku, quantity in rows)
    return buffer.getvalue().encode("utf-8")
