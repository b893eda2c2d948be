"""The inventory file intake: reading a merchant's stock CSV and deciding each row's outcome.

Letzshop's public API has no stock mutation; merchants hand their stock over as a CSV
inventory file. No public specification of that import exists, so what is here is the
project's model of it (see README.md, "Inventory file intake"): the rules a file is read
by, and the per-row processing report, are ours.

This module is pure (no state, no HTTP): ``read_inventory_csv`` parses a file's bytes,
``process_rows`` decides every row against the armed ``InventoryFaults`` and the known
listings. ``LetzshopState.receive_inventory_file`` puts them together.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Container, Iterable
from dataclasses import dataclass, field

REQUIRED_COLUMNS = ("id", "quantity")
# A spreadsheet escapes a cell that would otherwise start a formula with a leading quote.
_FORMULA_STARTS = frozenset("=+-@\t\r")
MAX_QUANTITY = 2_147_483_647

LISTING_LOCKED = "listing locked"
CHANNEL_REJECTED = "rejected by the channel (sandbox fault)"
UNKNOWN_LISTING = "unknown SKU: no listing with this id"


class InventoryFileError(ValueError):
    """The file as a whole cannot be processed (HTTP 400); nothing of it is applied."""


@dataclass(frozen=True)
class InventoryFaults:
    """How the intake misbehaves, and how strict it is.

    ``drop_skus``: rows with these ids are silently ignored (not applied, absent from the
    report). ``reject_skus``: rejected with "listing locked". ``drop_every`` /
    ``reject_every`` (0 = off): every n-th data row of a file (counting from 1, blank rows
    not counted) is dropped / rejected. ``strict_listings``: ids that are not a known
    listing are rejected. Replaced as a whole, never mutated, so a request can read it
    without the lock.
    """

    drop_skus: frozenset[str] = field(default_factory=frozenset)
    reject_skus: frozenset[str] = field(default_factory=frozenset)
    drop_every: int = 0
    reject_every: int = 0
    strict_listings: bool = False

    def __post_init__(self) -> None:
        for name in ("drop_skus", "reject_skus"):
            value = getattr(self, name)
            if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
                raise TypeError(f"{name} must be a collection of SKUs, not {type(value).__name__}")
            skus = frozenset(value)
            if not all(isinstance(s, str) for s in skus):
                raise TypeError(f"{name} must hold strings")
            object.__setattr__(self, name, skus)
        for name in ("drop_every", "reject_every"):
            value = getattr(self, name)
            if value is None:
                value = 0
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer (0 = off)")
            object.__setattr__(self, name, value)
        if not isinstance(self.strict_listings, bool):
            raise TypeError("strict_listings must be true or false")

    def as_dict(self) -> dict:
        return {"drop_skus": sorted(self.drop_skus), "reject_skus": sorted(self.reject_skus),
                "drop_every": self.drop_every, "reject_every": self.reject_every,
                "strict_listings": self.strict_listings}


def unescape(cell: str) -> str:
    """A cell as meant: ``'=A1`` -> ``=A1``, ``'-SKU`` -> ``-SKU``; anything else unchanged."""
    if cell[:1] == "'" and cell[1:2] in _FORMULA_STARTS:
        return cell[1:]
    return cell


def read_inventory_csv(body: bytes) -> list[tuple[int, str, str]]:
    """The data rows of an inventory file as ``(line, id, quantity text)``.

    ``line`` is the 1-based physical line the record starts on (a quoted field may span
    lines). The header row (the first non-blank record) must name ``id`` and
    ``quantity`` (case and surrounding blanks ignored; other columns are allowed and
    ignored, in any order). Blank records (no cell with anything but blanks) are skipped.
    ``id`` is verbatim after unescaping; the quantity text is unescaped and stripped.
    Raises InventoryFileError for a file that is not UTF-8, not well-formed CSV or has
    no usable header.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InventoryFileError(f"the file is not UTF-8 (bad byte at offset {error.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, str, str]] = []
    append = rows.append
    id_at = quantity_at = -1
    previous_end = 0
    try:
        for record in reader:
            line = previous_end + 1
            previous_end = reader.line_num
            if id_at < 0:  # still looking for the header
                if not any(cell.strip() for cell in record):
                    continue
                id_at, quantity_at = _header(record, line)
                width = max(id_at, quantity_at) + 1
                continue
            if len(record) >= width:
                cell_id, quantity = record[id_at], record[quantity_at]
            else:
                if not any(cell.strip() for cell in record):
                    continue
                cell_id = record[id_at] if id_at < len(record) else ""
                quantity = record[quantity_at] if quantity_at < len(record) else ""
            if not cell_id and not quantity.strip() and not any(cell.strip() for cell in record):
                continue
            if cell_id[:1] == "'":
                cell_id = unescape(cell_id)
            if quantity[:1] == "'":
                quantity = unescape(quantity)
            append((line, cell_id, quantity.strip()))
    except csv.Error as error:
        raise InventoryFileError(f"malformed CSV at line {reader.line_num}: {error}") from None
    if id_at < 0:
        raise InventoryFileError("empty file: expected a header row naming the columns "
                                 "'id' and 'quantity'")
    return rows


def _header(record: list[str], line: int) -> tuple[int, int]:
    names = [cell.strip().lower() for cell in record]
    positions = []
    for column in REQUIRED_COLUMNS:
        count = names.count(column)
        if count == 0:
            raise InventoryFileError(
                f"the header row (line {line}) must name the columns 'id' and 'quantity'; "
                f"found {[cell.strip() for cell in record]}")
        if count > 1:
            raise InventoryFileError(f"the header row (line {line}) names the column "
                                     f"{column!r} {count} times")
        positions.append(names.index(column))
    return positions[0], positions[1]


@dataclass
class Outcome:
    """What a file did: the report's ``results``, the stock to set, and the counts."""

    results: list[dict]
    applied: dict[str, int]
    updated: int
    rejected: int
    dropped: int


def process_rows(rows: list[tuple[int, str, str]], faults: InventoryFaults,
                 known: Container[str] | None) -> Outcome:
    """Decide every row, in file order.

    A row is, in this order of precedence: dropped (``drop_skus`` / ``drop_every``: no
    trace in the results); rejected for an empty id, an id an earlier (not dropped) row
    of the file already had, or a quantity that is not a non-negative integer; rejected
    by ``reject_skus`` ("listing locked") or ``reject_every``; rejected as unknown when
    ``known`` is given (strict listings) and lacks the id; otherwise updated (stock set
    to the quantity). A rejected row's ``quantity`` is its parsed value, or None.
    """
    results: list[dict] = []
    add = results.append
    applied: dict[str, int] = {}
    first_line: dict[str, int] = {}
    drop_skus, reject_skus = faults.drop_skus, faults.reject_skus
    drop_every, reject_every = faults.drop_every, faults.reject_every
    updated = rejected = dropped = 0
    for position, (line, sku, text) in enumerate(rows, 1):
        if (drop_every and position % drop_every == 0) or (drop_skus and sku in drop_skus):
            dropped += 1
            continue
        quantity = None
        if not sku.strip():
            message = "empty id"
        elif sku in first_line:
            message = f"duplicate id: first on line {first_line[sku]}"
        else:
            first_line[sku] = line
            if text.isdigit() and text.isascii():
                quantity = int(text)
                if quantity > MAX_QUANTITY:
                    quantity, message = None, f"quantity {text} is too large"
                elif reject_skus and sku in reject_skus:
                    message = LISTING_LOCKED
                elif reject_every and position % reject_every == 0:
                    message = CHANNEL_REJECTED
                elif known is not None and sku not in known:
                    message = UNKNOWN_LISTING
                else:
                    applied[sku] = quantity
                    updated += 1
                    add({"line": line, "id": sku, "status": "updated", "quantity": quantity,
                         "message": None})
                    continue
            elif not text:
                message = "missing quantity"
            else:
                message = f"quantity {text!r} is not a non-negative integer"
        rejected += 1
        add({"line": line, "id": sku, "status": "rejected", "quantity": quantity, "message": message})
    return Outcome(results, applied, updated, rejected, dropped)
