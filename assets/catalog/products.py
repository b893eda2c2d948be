"""The manual catalog load: a merchant's products CSV into core.products.

The file is the merchant's truth for the products it lists: a SKU in the file is created or updated
to match it, a SKU not in the file is left alone (orders may still point at it). Rows that cannot be
trusted (no SKU, an invalid barcode, columns shifted) are rejected one by one with a reason, and the
rest load, so one bad line never blocks a catalog of 100,000.

Rows travel by COPY into a temporary table and reach the catalog in one set-based upsert that
writes only the rows that differ from what is stored; afterwards pending matching exceptions that
the new catalog settles are resolved automatically.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection

from marketsync.assets.catalog.exceptions import auto_resolve
from marketsync.assets.catalog.gtin import normalize_gtin
from marketsync.assets.catalog.matching import lock_store_catalog
from marketsync.assets.catalog.text_files import read_text_file
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside, sql_beside
from marketsync.resources.warehouse import copy_rows

REQUIRED_COLUMNS = ("sku", "gtin", "title")
# Placeholder products (order lines we could not match) own these SKUs; see matching.py.
RESERVED_SKU_PREFIX = "unmatched:"
# Joins a row's optional column values for COPY; the database splits them back into `attributes`.
ATTRIBUTE_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class ProductImportResult:
    """What one import did. read = loaded + unchanged + len(rejected).

    loaded:    rows written (new SKUs plus changed ones); `inserted` of them were new.
    unchanged: valid rows identical to the stored product, not written.
    rejected:  (line number in the file, the raw line, reason) for each row not loaded.
    auto_resolved: matching exceptions the updated catalog resolved.
    """

    read: int
    loaded: int
    unchanged: int
    rejected: list[tuple[int, str, str]] = field(default_factory=list)
    inserted: int = 0
    auto_resolved: int = 0


@dataclass
class _Parsed:
    rows: list[tuple[str, str | None, str | None, str | None]]  # sku, gtin14, title, attribute values
    rejected: list[tuple[int, str, str]]
    read: int
    attribute_keys: list[str]


def import_products_csv(conn: Connection, store_id: int, path: str | Path) -> ProductImportResult:
    """Load the products CSV at `path` into store `store_id`'s catalog, inside the caller's transaction.

    The header must name sku, gtin and title (any order, any case); every other named column is kept
    in the product's `attributes` (empty cells are left out). UTF-8 with or without a byte-order
    mark; comma, semicolon or tab separated (decided from the header line).
    """
    parsed = _parse(read_text_file(Path(path)))
    # Taken before the upsert so a matching run sees either none or all of the new catalog.
    lock_store_catalog(conn, store_id)
    conn.exec_driver_sql(sql_beside(__file__, "products_stage.sql"))
    copy_rows(conn, "product_stage", ("sku", "gtin14", "title", "attribute_values"), parsed.rows)
    counts = conn.execute(
        query_beside(__file__, "products_upsert.sql"),
        {"store_id": store_id, "attribute_keys": parsed.attribute_keys},
    ).one()
    resolved = auto_resolve(conn, store_id)
    return ProductImportResult(
        read=parsed.read,
        loaded=counts.written,
        unchanged=len(parsed.rows) - counts.written,
        rejected=parsed.rejected,
        inserted=counts.inserted,
        auto_resolved=resolved,
    )




def _parse(content: str) -> _Parsed:
    # readlines with newline="" keeps a \r\n inside a quoted field intact, as csv requires; the
    # lines are kept so a rejected record can be shown as it was written.
    lines = io.StringIO(content, newline="").readlines()
    if not lines:
        raise MarketsyncError("the products file is empty: it needs a header line with sku,gtin,title")
    reader = csv.reader(lines, delimiter=_delimiter(lines[0]))
    columns = [name.strip() for name in next(reader)]
    index = _column_index(columns)
    sku_at, gtin_at, title_at = (index[name] for name in REQUIRED_COLUMNS)
    extra_at = [i for i, name in enumerate(columns) if name and name.lower() not in REQUIRED_COLUMNS]
    width = len(columns)
    separator_in_file = ATTRIBUTE_SEPARATOR in content

    rows: list[tuple[str, str | None, str | None, str | None]] = []
    rejected: list[tuple[int, str, str]] = []
    first_line_of: dict[str, int] = {}
    read = 0
    start = reader.line_num + 1
    for fields in reader:
        line_no, start = start, reader.line_num + 1
        if len(fields) != width:
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # a blank line is not a record
            read += 1
            rejected.append((line_no, _raw(lines, line_no, start),
                             f"has {len(fields)} fields but the header has {width}"))
            continue
        read += 1
        sku = fields[sku_at].strip()
        reason = None
        if not sku:
            reason = "sku is empty"
        elif sku.startswith(RESERVED_SKU_PREFIX):
            reason = f"SKUs starting with '{RESERVED_SKU_PREFIX}' are reserved for placeholder products"
        else:
            gtin = normalize_gtin(fields[gtin_at].strip() or None)
            reason = gtin.problem
            if reason is None and (seen := first_line_of.setdefault(sku, line_no)) != line_no:
                reason = f"sku '{sku}' already appears on line {seen}"
            if reason is None and separator_in_file and any(ATTRIBUTE_SEPARATOR in fields[i] for i in extra_at):
                reason = "contains the control character U+001F"
        if reason is not None:
            rejected.append((line_no, _raw(lines, line_no, start), reason))
            continue
        rows.append((
            sku,
            gtin.gtin14,
            fields[title_at].strip() or None,
            ATTRIBUTE_SEPARATOR.join([fields[i].strip() for i in extra_at]) if extra_at else None,
        ))
    return _Parsed(rows, rejected, read, [columns[i] for i in extra_at])


def _raw(lines: list[str], first: int, after: int) -> str:
    """The record spanning lines first..after-1 (1-based) as written in the file."""
    return "".join(lines[first - 1:after - 1]).rstrip("\r\n")


def _delimiter(header: str) -> str:
    # Spreadsheets set to a European locale export ';'; some tools export tabs.
    for candidate in (",", ";", "\t"):
        if candidate in header:
            return candidate
    return ","


def _column_index(columns: list[str]) -> dict[str, int]:
    lowered = [name.lower() for name in columns]
    missing = [name for name in REQUIRED_COLUMNS if name not in lowered]
    if missing:
        raise MarketsyncError(
            f"the products file's header lacks {', '.join(missing)}: it must contain sku,gtin,title "
            f"(found: {','.join(columns) or 'nothing'})"
        )
    named = [name for name in lowered if name]
    duplicates = sorted({name for name in named if named.count(name) > 1})
    if duplicates:
        raise MarketsyncError(f"the products file's header names {', '.join(duplicates)} more than once")
    return {name: lowered.index(name) for name in REQUIRED_COLUMNS}
