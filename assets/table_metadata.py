"""Dagster's standard table metadata for an asset stored in a Postgres table: `dagster/table_name`,
`dagster/column_schema` (from information_schema, with each column's comment) and `dagster/row_count`,
attached to every materialisation so the UI shows what the table holds and how it grew; and, on the
asset's definition (`stored_in`), its table and columns before anything ran, from table_columns.json: a
snapshot of the same comments that `make dictionary` writes from a migrated database (and a test compares
with it), since a code location must load without one.

Cheap enough for every run: one query for the columns, one for the planner's row estimate and, when that
estimate is small (under EXACT_COUNT_BELOW rows, or the table was never analysed), one exact count(*)
(a few milliseconds at most, paid by every store of a fleet sync).
Large tables report the estimate (pg_class.reltuples, kept by autovacuum) and say so in
`row_count_exact`, because counting millions of rows on every import would cost more than the import.
"""
from __future__ import annotations

import functools
import json
import threading
import time
from pathlib import Path

from dagster import TableColumn, TableColumnConstraints, TableSchema
from sqlalchemy import text
from sqlalchemy.engine import Connection

from marketsync.resources.sql_files import query_beside

# The columns of every table an asset is stored in, as `make dictionary` last read them.
TABLE_COLUMNS_FILE = Path(__file__).with_name("table_columns.json")

# Below this estimate the exact count is a fast index-only or sequential scan of a small table.
EXACT_COUNT_BELOW = 50_000


# A table's columns read within this many seconds are reused: they change only with a migration, and a
# fleet sync materialises the same tables for every store of its batch. Row counts are always read.
COLUMNS_REUSED_FOR_SECONDS = 30.0
_columns_read: dict[tuple[str, str], tuple[float, TableSchema]] = {}
_columns_lock = threading.Lock()


def column_schema(conn: Connection, table: str) -> TableSchema:
    """The table's columns (`schema.table`) as Dagster's TableSchema: name, type, nullability, comment
    (reused from this process's reading of the same database less than COLUMNS_REUSED_FOR_SECONDS old)."""
    key, now = (conn.engine.url.render_as_string(hide_password=True), table), time.monotonic()
    with _columns_lock:
        read = _columns_read.get(key)
    if read is None or now - read[0] > COLUMNS_REUSED_FOR_SECONDS:
        read = (now, _read_column_schema(conn, table))
        with _columns_lock:
            _columns_read[key] = read
    return read[1]


def _read_column_schema(conn: Connection, table: str) -> TableSchema:
    schema, name = table.split(".", 1)
    rows = conn.execute(query_beside(__file__, "table_columns.sql"), {"schema": schema, "table": name}).all()
    if not rows:
        raise ValueError(f"no table {table} in the warehouse")
    return TableSchema(columns=[
        TableColumn(name=r.column_name, type=r.udt_name if r.data_type == "USER-DEFINED" else r.data_type,
                    description=r.comment, constraints=TableColumnConstraints(nullable=r.nullable))
        for r in rows])


def row_count(conn: Connection, table: str) -> tuple[int, bool]:
    """(rows, exact): the exact count for a small table, the planner's estimate for a large one."""
    schema, name = table.split(".", 1)
    estimate = conn.execute(query_beside(__file__, "table_row_estimate.sql"),
                            {"schema": schema, "table": name}).scalar()
    if estimate is not None and estimate >= EXACT_COUNT_BELOW:
        return int(estimate), False
    # Identifiers come from our own asset definitions, quoted all the same.
    quoted = ".".join('"' + part.replace('"', '""') + '"' for part in (schema, name))
    return conn.execute(text(f"SELECT count(*) FROM {quoted}")).scalar_one(), True  # noqa: S608 - our table, quoted


def table_metadata(conn: Connection, table: str) -> dict:
    """The standard metadata of the asset stored in `table` ("schema.table"), for a MaterializeResult."""
    rows, exact = row_count(conn, table)
    return {"dagster/table_name": table, "dagster/column_schema": column_schema(conn, table),
            "dagster/row_count": rows, "row_count_exact": exact}


def with_table_metadata(engine_or_warehouse, table: str, metadata: dict | None = None) -> dict:
    """`metadata` (the run's own counters) plus the table's standard metadata, read in a short
    transaction of its own after the asset's work committed."""
    engine = getattr(engine_or_warehouse, "engine", engine_or_warehouse)
    with engine.connect() as conn:
        return {**(metadata or {}), **table_metadata(conn, table)}


def stored_in(table: str) -> dict:
    """Definition metadata of an asset stored in `table` ("schema.table"): `dagster/table_name`, and its
    `dagster/column_schema` with the database's column comments (from the snapshot; a table not in it yet
    gets its columns at its first materialisation, and the definitions test asks for `make dictionary`)."""
    metadata: dict = {"dagster/table_name": table}
    columns = _snapshot().get(table)
    if columns is not None:
        metadata["dagster/column_schema"] = TableSchema(columns=[
            TableColumn(name=c["name"], type=c["type"], description=c["description"],
                        constraints=TableColumnConstraints(nullable=c["nullable"])) for c in columns])
    return metadata


@functools.cache
def _snapshot() -> dict[str, list[dict]]:
    if not TABLE_COLUMNS_FILE.exists():
        return {}
    return json.loads(TABLE_COLUMNS_FILE.read_text(encoding="utf-8"))


def columns_snapshot(conn: Connection, tables: list[str]) -> dict[str, list[dict]]:
    """`tables`' columns as table_columns.json holds them: name, type, nullability, comment."""
    return {table: [{"name": c.name, "type": c.type, "description": c.description,
                     "nullable": c.constraints.nullable} for c in _read_column_schema(conn, table).columns]
            for table in sorted(set(tables))}
