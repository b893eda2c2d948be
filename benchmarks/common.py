"""What the benchmarks share: a throwaway, migrated database per run and the process's peak memory."""
from __future__ import annotations

import os
import resource
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def prepare_bench_environment() -> None:
    """The process environment of a benchmark. Its databases are throwaway (dropped at the end), so
    without MARKETSYNC_SECRET_KEYS it encrypts with a key of its own, made now and never stored: the
    fail-closed rule for a DATABASE_URL of one's own (pipelines/environment.py) does not stop `make bench`
    against a local server."""
    from cryptography.fernet import Fernet

    from marketsync.pipelines.environment import allow_sandbox_network, prepare_environment

    os.environ.setdefault("MARKETSYNC_SECRET_KEYS", Fernet.generate_key().decode())
    prepare_environment()
    # The simulators listen on loopback and the feed files lie in temporary folders: allowed explicitly.
    allow_sandbox_network(Path(tempfile.gettempdir()))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def bench_database(label: str) -> Iterator[tuple]:
    """(warehouse, vault, database URL) of a fresh database on DATABASE_URL's server (the embedded one
    unless set), migrated, dropped afterwards."""
    from marketsync.resources import migrations
    from marketsync.resources.database import drop_database, ensure_database
    from marketsync.resources.vault import CredentialVault
    from marketsync.resources.warehouse import Warehouse

    prepare_bench_environment()
    server = os.environ["DATABASE_URL"]
    database_url = ensure_database(server, f"marketsync_bench_{label}_{os.getpid()}")
    migrations.upgrade(database_url)
    warehouse = Warehouse(database_url=database_url)
    try:
        yield warehouse, CredentialVault(secret_keys=os.environ["MARKETSYNC_SECRET_KEYS"]), database_url
    finally:
        warehouse.engine.dispose()
        drop_database(server, database_url)


def run_seed_script(warehouse, path: Path, params: dict) -> None:
    """Run a benchmark's seed script in one transaction, statement by statement (each ends with ';' at
    the end of a line); pieces that are only comments are skipped."""
    from sqlalchemy import text

    with warehouse.begin() as conn:
        for statement in path.read_text().split(";\n"):
            if any(line.strip() and not line.lstrip().startswith("--") for line in statement.splitlines()):
                conn.execute(text(statement), params)
