"""The Postgres warehouse as a Dagster resource."""
from __future__ import annotations

from collections.abc import Iterable

from dagster import ConfigurableResource
from sqlalchemy import Connection

from marketsync.resources.database import WarehouseAccess


class Warehouse(WarehouseAccess, ConfigurableResource):
    """The marketsync warehouse: raw payloads, the canonical model, and the ops tables."""

    database_url: str




def copy_rows(conn: Connection, table: str, columns: Iterable[str], rows: Iterable[tuple]) -> int:
    """COPY tuples into `table` inside the connection's transaction; returns how many rows.
    COPY, not INSERT: it is the fastest way rows get into Postgres, by a wide margin."""
    count = 0
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count
