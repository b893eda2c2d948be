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
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, text

from assets.catalog.exceptions import auto_resolve
from assets.catalog.gtin import normalize_gtin
from assets.catalog.matching import lock_store_catalog
from resources.errors import MarketsyncError
from resources.warehouse import sql_beside

REQUIRED_COLUMNS = ("sku", "gtin", "title")
# Placeholder products (order lines we could not match) own these SKUs; see matching.py.
RESERVED_SKU_PREFIX = "unmatched:"


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
    rows: list[tuple[str, str | None, str | None, str]]
    rejected: list[tuple[int, str, str]]
    read: int


def import_products_csv(conn: Connection, store_id: int, path: str | Path) -> ProductImportResult:
    """Load the products CSV at `path` into store `store_id`'s catalog, inside the caller's transaction.

    The header must name sku, gtin and title (any order, any case); every other named column is kept
    in the product's `attributes` (empty cells are left out). UTF-8 with or without a byte-order
    mark; comma, semicolon or tab separated (decided from the header line).
    """
    parsed = _parse(_read_text(Path(path)))
    # Taken before the upsert so a matching run sees either none or all of the new catalog.
    lock_store_catalog(conn, store_id)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        cur.execute(sql_beside(__file__, "products_stage.sql"))
        with cur.copy("COPY product_stage (sku, gtin14, title, attributes) FROM STDIN") as copy:
            for row in parsed.rows:
                copy.write_row(row)
    counts = conn.execute(text(sql_beside(__file__, "products_upsert.sql")), {"store_id": store_id}).one()
    resolved = auto_resolve(conn, store_id)
    return ProductImportResult(
        read=parsed.read,
        loaded=counts.written,
        unchanged=len(parsed.rows) - counts.written,
        rejected=parsed.rejected,
        inserted=counts.inserted,
        auto_resolved=resolved,
    )


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MarketsyncError(f"cannot read products file {path}: {exc.strerror or exc}") from exc
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise MarketsyncError(
            f"products file {path} is not UTF-8 text (first bad byte on line {line}): save it as 'CSV UTF-8'"
        ) from exc
    if "\x00" in content:
        # Postgres text cannot hold NUL, and a file full of them is usually a UTF-16 export.
        raise MarketsyncError(f"products file {path} contains NUL characters: save it as 'CSV UTF-8'")
    return content


def _parse(content: str) -> _Parsed:
    records = _records(content)
    header = next(records, None)
    if header is None:
        raise MarketsyncError("the products file is empty: it needs a header line with sku,gtin,title")
    columns = [name.strip() for name in header[2]]
    index = _column_index(columns)
    sku_at, gtin_at, title_at = (index[name] for name in REQUIRED_COLUMNS)
    extra = [(i, name) for i, name in enumerate(columns) if name and name.lower() not in REQUIRED_COLUMNS]
    width = len(columns)

    rows: list[tuple[str, str | None, str | None, str]] = []
    rejected: list[tuple[int, str, str]] = []
    first_line_of: dict[str, int] = {}
    read = 0
    for line_no, raw, fields in records:
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # a blank line is not a record
        read += 1
        if len(fields) != width:
            rejected.append((line_no, raw, f"has {len(fields)} fields but the header has {width}"))
            continue
        sku = fields[sku_at].strip()
        if not sku:
            rejected.append((line_no, raw, "sku is empty"))
            continue
        if sku.startswith(RESERVED_SKU_PREFIX):
            rejected.append((line_no, raw, f"SKUs starting with '{RESERVED_SKU_PREFIX}' are reserved for placeholder products"))
            continue
        gtin = normalize_gtin(fields[gtin_at])
        if gtin.problem:
            rejected.append((line_no, raw, gtin.problem))
            continue
        seen = first_line_of.setdefault(sku, line_no)
        if seen != line_no:
            rejected.append((line_no, raw, f"sku '{sku}' already appears on line {seen}"))
            continue
        attributes = {name: fields[i].strip() for i, name in extra if fields[i].strip()}
        rows.append((sku, gtin.gtin14, fields[title_at].strip() or None, json.dumps(attributes) if attributes else "{}"))
    return _Parsed(rows, rejected, read)


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


def _records(content: str) -> Iterator[tuple[int, str, list[str]]]:
    """(first line number, raw text, fields) per CSV record; a quoted field may span lines."""
    first_line = content.split("\n", 1)[0]
    delimiter = "," if "," in first_line else ";" if ";" in first_line else "\t" if "\t" in first_line else ","
    consumed: list[str] = []

    def lines() -> Iterator[str]:
        # newline="" keeps \r\n inside quoted fields intact, as the csv module requires.
        for line in io.StringIO(content, newline=""):
            consumed.append(line)
            yield line

    reader = csv.reader(lines(), delimiter=delimiter)
    start = 1
    for fields in reader:
        raw = "".join(consumed).rstrip("\r\n")
        consumed.clear()
        yield start, raw, fields
        start = reader.line_num + 1
