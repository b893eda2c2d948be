"""Makes a process ready to run marketsync on this machine with nothing configured.

Unset `DATABASE_URL`: start (or join) the embedded Postgres and use databases on it for the warehouse
and for Dagster. Unset `MARKETSYNC_SECRET_KEYS`: a development key kept in `$MARKETSYNC_HOME` (never in
the database); production sets its own keys. `DAGSTER_HOME` is the repo root, where dagster.yaml lives.
"""
from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet

from resources.database import (
    DAGSTER_DB,
    REPO_ROOT,
    WAREHOUSE_DB,
    ensure_database,
    dagster_storage_url,
    marketsync_home,
    start_embedded_server,
)


def _development_key(home: Path) -> str:
    path = home / "development-secret-key"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(Fernet.generate_key().decode())
    return path.read_text().strip()


def prepare_environment() -> dict[str, str]:
    """Fill in what is missing from os.environ; returns what it set (for messages, never secrets)."""
    home = marketsync_home()
    chosen: dict[str, str] = {}
    if not os.environ.get("DATABASE_URL"):
        server = start_embedded_server()
        os.environ["DATABASE_URL"] = ensure_database(server, WAREHOUSE_DB)
        os.environ.setdefault("MARKETSYNC_DAGSTER_DATABASE_URL", dagster_storage_url(ensure_database(server, DAGSTER_DB)))
        chosen["DATABASE_URL"] = "embedded"
    os.environ.setdefault("MARKETSYNC_DAGSTER_DATABASE_URL", dagster_storage_url(os.environ["DATABASE_URL"]))
    if not os.environ.get("MARKETSYNC_SECRET_KEYS"):
        os.environ["MARKETSYNC_SECRET_KEYS"] = _development_key(home)
        chosen["MARKETSYNC_SECRET_KEYS"] = "development key"
    os.environ.setdefault("DAGSTER_HOME", str(REPO_ROOT))
    os.environ.setdefault("MARKETSYNC_DAGSTER_ARTIFACTS", str(home / "dagster" / "storage"))
    os.environ.setdefault("MARKETSYNC_DAGSTER_COMPUTE_LOGS", str(home / "dagster" / "logs"))
    return chosen
