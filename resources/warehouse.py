"""The Postgres warehouse as a Dagster resource."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from dagster import ConfigurableResource
from sqlalchemy import Connection, Engine

from resources.database import engine_for
from resources.sql_files import sql_beside  # noqa: F401 - kept importable from here


class Warehouse(ConfigurableResource):
    """The marketsync warehouse: raw payloads, the canonical model, and the ops tables."""

    database_url: str

    @property
    def engine(self) -> Engine:
        return engine_for(self.database_url)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection inside one transaction, committed on success."""
        with self.engine.begin() as conn:
            yield conn




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
