"""Makes a process ready to run marketsync on this machine with nothing configured, and refuses to start
where "nothing configured" would be unsafe.

Unset `DATABASE_URL`: start (or join) the embedded Postgres and use databases on it for the warehouse
and for Dagster. Unset `MARKETSYNC_SECRET_KEYS`: in that embedded development setup only, a development
key kept in `$MARKETSYNC_HOME` (never in the database). Configuration fails closed: with a `DATABASE_URL`
of the user's own, or `MARKETSYNC_ENV=production`, a missing `MARKETSYNC_SECRET_KEYS` is a startup error
(credentials must never be encrypted with a key lying next to the code), unless `MARKETSYNC_ENV=development`
says this is a developer's own database. `DAGSTER_HOME` is the repo root, where dagster.yaml lives (installed: a
folder in `$MARKETSYNC_HOME` with a copy of the packaged dagster.yaml).
"""
from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet

from marketsync.resources.database import (
    DAGSTER_DB,
    IN_CHECKOUT,
    REPO_ROOT,
    WAREHOUSE_DB,
    dagster_storage_url,
    ensure_database,
    marketsync_home,
    start_embedded_server,
)
from marketsync.resources.errors import MarketsyncError

ENVIRONMENTS = ("development", "production")


class ConfigurationError(MarketsyncError):
    """The process is configured in a way that is unsafe to run: it refuses to start, saying what to set."""


def deployment_environment() -> str | None:
    """MARKETSYNC_ENV: "production", "development", or None (unset: the embedded setup decides)."""
    value = (os.environ.get("MARKETSYNC_ENV") or "").strip().lower()
    if value and value not in ENVIRONMENTS:
        raise ConfigurationError(f"MARKETSYNC_ENV must be one of {', '.join(ENVIRONMENTS)}, not '{value}'")
    return value or None


def own_keys_required() -> str | None:
    """Why this process must bring its own MARKETSYNC_SECRET_KEYS (worded), or None where the development
    key is allowed: the embedded database, or a database the user declares as development."""
    environment = deployment_environment()
    if environment == "production":
        return "MARKETSYNC_ENV is production"
    if environment is None and os.environ.get("DATABASE_URL"):
        return "DATABASE_URL names a database of your own"
    return None


def require_secret_keys() -> None:
    """Fail closed: raise ConfigurationError when the credentials' keys are missing where they must be set."""
    reason = own_keys_required()
    if reason and not os.environ.get("MARKETSYNC_SECRET_KEYS"):
        raise ConfigurationError(
            f"MARKETSYNC_SECRET_KEYS is not set and {reason}: the stored credentials must be encrypted with "
            "keys of this deployment's own. Create one with `marketsync credentials new-key` and set "
            "MARKETSYNC_SECRET_KEYS to it (keep it outside the database and the repository). For a "
            "developer's own database, MARKETSYNC_ENV=development allows the development key.")


def _development_key(home: Path) -> str:
    path = home / "development-secret-key"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(Fernet.generate_key().decode())
    return path.read_text().strip()


def dagster_home(home: Path) -> Path:
    """Where Dagster reads dagster.yaml (and writes its own small files): the repository in a source
    checkout; installed, a folder in marketsync's home holding a copy of the packaged dagster.yaml."""
    if IN_CHECKOUT:
        return REPO_ROOT
    folder = home / "dagster-home"
    folder.mkdir(parents=True, exist_ok=True)
    packaged = (REPO_ROOT / "dagster.yaml").read_text()
    target = folder / "dagster.yaml"
    if not target.exists() or target.read_text() != packaged:
        target.write_text(packaged)
    return folder


def prepare_environment() -> dict[str, str]:
    """Fill in what is missing from os.environ; returns what it set (for messages, never secrets). Raises
    ConfigurationError, before anything starts, where a missing setting would be unsafe."""
    require_secret_keys()
    home = marketsync_home()
    chosen: dict[str, str] = {}
    if not os.environ.get("DATABASE_URL"):
        server = start_embedded_server()
        os.environ["DATABASE_URL"] = ensure_database(server, WAREHOUSE_DB)
        os.environ.setdefault("MARKETSYNC_DAGSTER_DATABASE_URL",
                              dagster_storage_url(ensure_database(server, DAGSTER_DB)))
        chosen["DATABASE_URL"] = "embedded"
    os.environ.setdefault("MARKETSYNC_DAGSTER_DATABASE_URL", dagster_storage_url(os.environ["DATABASE_URL"]))
    if not os.environ.get("MARKETSYNC_SECRET_KEYS"):
        os.environ["MARKETSYNC_SECRET_KEYS"] = _development_key(home)
        chosen["MARKETSYNC_SECRET_KEYS"] = "development key"  # noqa: S105 - a label saying which key, not the key
    os.environ.setdefault("DAGSTER_HOME", str(dagster_home(home)))
    os.environ.setdefault("MARKETSYNC_DAGSTER_ARTIFACTS", str(home / "dagster" / "storage"))
    os.environ.setdefault("MARKETSYNC_DAGSTER_COMPUTE_LOGS", str(home / "dagster" / "logs"))
    return chosen


# The simulators of the demo and `marketsync dev` listen on loopback; the outbound URL policy
# (resources.url_policy) refuses loopback unless the deployment allows it.
SANDBOX_NETWORKS = ("127.0.0.0/8", "::1/128")


def allow_sandbox_network(home: Path) -> str:
    """Allows, for this process and its children, what the demo's world needs and a deployment would not:
    the loopback networks where the simulators listen (MARKETSYNC_ALLOW_PRIVATE_URLS), and the demo's home
    as a local folder (MARKETSYNC_LOCAL_FILE_DIRS). Returns the line that says so."""
    for name, values in (("MARKETSYNC_ALLOW_PRIVATE_URLS", SANDBOX_NETWORKS),
                         ("MARKETSYNC_LOCAL_FILE_DIRS", (str(home),))):
        present = [v.strip() for v in os.environ.get(name, "").split(",") if v.strip()]
        os.environ[name] = ",".join(dict.fromkeys([*present, *values]))
    allowed = os.environ["MARKETSYNC_ALLOW_PRIVATE_URLS"]
    return (f"the simulators listen on loopback: MARKETSYNC_ALLOW_PRIVATE_URLS={allowed} for this run (a "
            "deployment allows only the private networks it needs)")

