"""The inbound control check: each row of the operations team's sheet (a merchant SKU and the units
they expect) compared with what the fulfillment network really received, as a status for the row.

Pure functions, no I/O: `locate_columns` finds the configured columns in the header row, `check_rows`
decides every row's status, `cell_updates` keeps only the status cells that change, so a second check
with nothing changed writes nothing at all.

Statuses (what the team reads in the sheet):
    MATCH: expected 10, received 10
    MISMATCH: expected 10, received 8 (-2)
    NO SKU / UNKNOWN SKU: ABC-1 / BAD EXPECTED UNITS: "ten" / UNKNOWN INBOUND: IN-7
A row that cannot be checked gets its reason and never stops the check.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from marketsync.resources.errors import MarketsyncError

MATCH, MISMATCH, PROBLEM = "match", "mismatch", "problem"


@dataclass(frozen=True)
class Columns:
    """0-based positions of the configured columns in the sheet."""

    sku: int
    expected: int
    status: int
    reference: int | None = None


@dataclass(frozen=True)
class RowResult:
    row_number: int  # 1-based, as the sheet numbers rows
    outcome: str     # match, mismatch, problem
    status: str


@dataclass(frozen=True)
class Received:
    """What the fulfiller holds for a store: units received per merchant SKU over all inbounds, per
    (inbound reference, merchant SKU), and units in stock per merchant SKU; the known SKUs and inbounds."""

    by_sku: Mapping[str, Decimal]
    by_inbound: Mapping[tuple[str, str], Decimal]
    in_stock: Mapping[str, Decimal]
    known_skus: frozenset[str]
    known_inbounds: frozenset[str]


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def locate_columns(header: Sequence[str], sku: str, expected: str, status: str, reference: str | None) -> Columns:
    """The configured columns, found by their header text (case and spacing ignored) or given as a
    column letter (A, B, ... AA); MarketsyncError naming what is missing and what the header holds."""
    names = {_key(text): i for i, text in reversed(list(enumerate(header))) if str(text).strip()}

    def find(wanted: str) -> int | None:
        if _key(wanted) in names:
            return names[_key(wanted)]
        if wanted.isalpha() and wanted.isupper() and len(wanted) <= 3:
            index = 0
            for char in wanted:
                index = index * 26 + ord(char) - 64
            return index - 1
        return None

    found = {role: find(name) for role, name in
             (("sku", sku), ("expected", expected), ("status", status), ("reference", reference)) if name}
    missing = [name for role, name in (("sku", sku), ("expected", expected), ("status", status),
                                       ("reference", reference)) if name and found[role] is None]
    if missing:
        shown = ", ".join(repr(str(h)) for h in header if str(h).strip()) or "nothing"
        raise MarketsyncError(f"the sheet's header row has no column {', '.join(repr(m) for m in missing)} "
                              f"(it holds {shown})")
    return Columns(found["sku"], found["expected"], found["status"], found.get("reference"))


def _key(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def _cell(row: Sequence[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return str(row[index]).strip()


# 1,000 / 1.000 / 1 000 / 12,500: digit groups of three, as sheets format counts in every locale.
_GROUPED = re.compile(r"\d{1,3}(?:([.,\u00a0\u202f ])\d{3})(?:\1\d{3})*")


_UNITS_LIMIT = Decimal(10) ** 12
_MICRO = Decimal("0.000001")


def parse_units(text: str) -> Decimal | None:
    """A count as people type it into a sheet: 12, 12.0, 1,000 or 1.000 (thousands), 2,5 (a decimal
    comma); None when it is not a number."""
    text = text.strip().replace("\u00a0", " ")
    if not text:
        return None
    if _GROUPED.fullmatch(text):
        text = re.sub(r"[., \u202f]", "", text)
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None
    # A count someone typed: below a trillion, at most six decimals. "2,1e+4000001" is a Decimal too, but
    # subtracting the units received from it overflows, and "1e-999999" would print a million zeros.
    # The test is against the value rounded to six decimals, not the value normalised: normalising a
    # number below the context's smallest exponent ("1e-4003709551616") gives 0, and the value itself
    # would still print four billion zeros.
    if not value.is_finite() or value.copy_abs() >= _UNITS_LIMIT:
        return None
    rounded = value.quantize(_MICRO)
    return rounded if rounded == value else None


def _units(value: Decimal) -> str:
    return f"{value.normalize():f}" if value == value.to_integral_value() else f"{value:f}"


def check_rows(rows: Sequence[Sequence[str]], header_row: int, columns: Columns, received: Received,
               compare_with: str = "receipts") -> list[RowResult]:
    """A status for every non-empty row below the header (`rows` is the whole sheet, row 1 first).
    `compare_with`: 'receipts' (units received over the SKU's inbounds) or 'stock' (units in stock);
    a row naming an inbound is always compared with that inbound's receipts."""
    if compare_with not in ("receipts", "stock"):
        raise MarketsyncError(f"compare_with must be 'receipts' or 'stock', not '{compare_with}'")
    results = []
    for number, row in enumerate(rows[header_row:], start=header_row + 1):
        if not any(str(cell).strip() for i, cell in enumerate(row) if i != columns.status):
            continue  # an empty row (or one with only an old status) is no inbound line
        results.append(_check_row(number, row, columns, received, compare_with))
    return results


def _check_row(number: int, row: Sequence[str], columns: Columns, received: Received, compare_with: str) -> RowResult:
    sku = _cell(row, columns.sku)
    if not sku:
        return RowResult(number, PROBLEM, "NO SKU")
    raw_expected = _cell(row, columns.expected)
    expected = parse_units(raw_expected)
    if expected is None or expected < 0:
        return RowResult(number, PROBLEM, f'BAD EXPECTED UNITS: "{raw_expected}"' if raw_expected
                         else "NO EXPECTED UNITS")
    if sku not in received.known_skus:
        return RowResult(number, PROBLEM, f"UNKNOWN SKU: {sku}")
    reference = _cell(row, columns.reference)
    if reference:
        if reference not in received.known_inbounds:
            return RowResult(number, PROBLEM, f"UNKNOWN INBOUND: {reference}")
        actual = received.by_inbound.get((reference, sku), Decimal(0))
    elif compare_with == "stock":
        actual = received.in_stock.get(sku, Decimal(0))
    else:
        actual = received.by_sku.get(sku, Decimal(0))
    noun = "in stock" if compare_with == "stock" and not reference else "received"
    if actual == expected:
        return RowResult(number, MATCH, f"MATCH: expected {_units(expected)}, {noun} {_units(actual)}")
    difference = actual - expected
    sign = "+" if difference > 0 else ""
    return RowResult(number, MISMATCH, f"MISMATCH: expected {_units(expected)}, {noun} {_units(actual)} "
                                       f"({sign}{_units(difference)})")


def cell_updates(rows: Sequence[Sequence[str]], results: Sequence[RowResult],
                 columns: Columns) -> list[tuple[str, list[list[str]]]]:
    """(A1 cell, [[status]]) for every row whose status cell does not already say its status."""
    letter = column_letter(columns.status)
    updates = []
    for result in results:
        current = _cell(rows[result.row_number - 1], columns.status) if result.row_number <= len(rows) else ""
        if current != result.status:
            updates.append((f"{letter}{result.row_number}", [[result.status]]))
    return updates
