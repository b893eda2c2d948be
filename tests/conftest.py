"""Shared fixtures: a real Postgres (embedded, or DATABASE_URL's server) with a throwaway database."""
from __future__ import annotations

import os
import tempfile
import uuid

import psycopg
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from marketsync.resources import migrations
from marketsync.resources.database import (
    dagster_storage_url,
    engine_for,
    ensure_database,
    libpq_url,
    start_embedded_server,
    with_database,
)
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse

# The suite runs on a developer's database (DATABASE_URL, or the embedded server): it declares itself a
# development environment, so the code location loads without production keys. Tests of the fail-closed
# rule (tests/test_configuration.py) unset this.
os.environ.setdefault("MARKETSYNC_ENV", "development")
# The simulators and local servers the tests talk to listen on loopback, which the outbound URL policy
# (resources/url_policy.py) refuses unless allowed, and feeds and deliveries in temporary folders are local
# files it refuses outside the allowed folders: the suite allows exactly those, as a deployment would
# allow its own private networks. The policy's own tests set these variables themselves.
os.environ["MARKETSYNC_ALLOW_PRIVATE_URLS"] = "127.0.0.0/8,::1/128"
os.environ["MARKETSYNC_LOCAL_FILE_DIRS"] = tempfile.gettempdir()


@pytest.fixture(scope="session")
def server_url() -> str:
    """A maintenance URL of the Postgres server the tests use."""
    return os.environ.get("DATABASE_URL") or start_embedded_server()


@pytest.fixture(scope="session")
def database_url(server_url: str):
    """A fresh, migrated database for this test session, dropped at the end."""
    name = f"marketsync_test_{uuid.uuid4().hex[:10]}"
    url = ensure_database(server_url, name)
    migrations.upgrade(url)
    yield url
    engine_for(url).dispose()
    with psycopg.connect(libpq_url(with_database(server_url, _maintenance_db(server_url))), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _maintenance_db(server_url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(server_url).database or "postgres"


_TRUNCATE = """
DO $$ DECLARE t text; BEGIN
  SELECT string_agg(format('%I.%I', schemaname, tablename), ', ') INTO t
  FROM pg_tables WHERE schemaname IN ('raw', 'core', 'ops')
    -- the reference data the migrations wrote
    AND (schemaname, tablename) NOT IN (('core', 'order_status_map'), ('ops', 'channels'),
                                        ('ops', 'metric_definitions'));
  EXECUTE 'TRUNCATE ' || t || ' RESTART IDENTITY CASCADE';
END $$;
"""


@pytest.fixture
def warehouse(database_url: str) -> Warehouse:
    """The warehouse, emptied before each test."""
    with engine_for(database_url).begin() as conn:
        conn.execute(text(_TRUNCATE))
    return Warehouse(database_url=database_url)


@pytest.fixture(scope="session")
def secret_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def vault(secret_key: str) -> CredentialVault:
    return CredentialVault(secret_keys=secret_key)


# ---------------------------------------------------------------- Letzshop simulator and a store on it
SIM_KEY = "sandbox-test-key"


@pytest.fixture
def letzshop_sim():
    """A seeded Letzshop simulator on loopback: (state, graphql endpoint). Small by default; tests that
    need another shape reset it (`state.reset(seed, size)`)."""
    from marketsync.sandbox.http import serve_in_thread
    from marketsync.sandbox.letzshop.app import create_app
    from marketsync.sandbox.letzshop.state import LetzshopState

    state = LetzshopState(seed=7, size=30, api_keys=(SIM_KEY,))
    with serve_in_thread(create_app(state)) as server:
        yield state, f"{server.base_url}/graphql"


@pytest.fixture
def shop(warehouse, vault, letzshop_sim):
    """Store 'shop' with a Letzshop account on the simulator, its key stored, its catalog loaded."""
    from types import SimpleNamespace

    from marketsync.assets.accounts import upsert_account
    from marketsync.assets.catalog.products import import_products_csv
    from marketsync.resources.letzshop import LetzshopResource
    from marketsync.sandbox.letzshop.data import write_catalog_csv

    state, endpoint = letzshop_sim
    with warehouse.begin() as conn:
        account = upsert_account(conn, "shop", "letzshop", endpoint,
                                 {"page_size": 7, "request_timeout_seconds": 2})
        vault.store(conn, account.account_id, {"api_key": SIM_KEY})
    return SimpleNamespace(state=state, endpoint=endpoint, account=account, warehouse=warehouse, vault=vault,
                           letzshop=LetzshopResource(timeout_seconds=2, max_retry_wait_seconds=0.2),
                           load_catalog=lambda path, seed=7, size=30: _load_catalog(
                               warehouse, account, path, seed, size, write_catalog_csv, import_products_csv))


def _load_catalog(warehouse, account, path, seed, size, write_catalog_csv, import_products_csv):
    write_catalog_csv(path, seed, size)
    with warehouse.begin() as conn:
        return import_products_csv(conn, account.store_id, path)


@pytest.fixture
def cli_env(monkeypatch, database_url, secret_key, tmp_path):
    """Environment for running the `marketsync` CLI in-process against the test database, with Dagster's
    storage in the same Postgres database."""
    from marketsync.resources.database import REPO_ROOT

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MARKETSYNC_DAGSTER_DATABASE_URL", dagster_storage_url(database_url))
    monkeypatch.setenv("MARKETSYNC_SECRET_KEYS", secret_key)
    monkeypatch.setenv("DAGSTER_HOME", str(REPO_ROOT))
    monkeypatch.setenv("MARKETSYNC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MARKETSYNC_DAGSTER_ARTIFACTS", str(tmp_path / "dagster" / "storage"))
    monkeypatch.setenv("MARKETSYNC_DAGSTER_COMPUTE_LOGS", str(tmp_path / "dagster" / "logs"))
    return tmp_path


@pytest.fixture
def run_cli(cli_env, capsys, monkeypatch):
    """Run `marketsync ARGS` in-process: returns (exit code, stdout, stderr)."""
    import io

    from marketsync.pipelines.cli import main

    def run(*args: str, stdin: str | None = None):
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def receiver():
    """A plain SMTP server on loopback (tests/smtp_receiver.py): (its recorder, its smtp:// endpoint)."""
    from smtp_receiver import serving

    with serving() as served:
        yield served


@pytest.fixture
def wait_for_dead_workers(warehouse):
    """Waits until no outbound worker holds an advisory lock in this database. A killed worker's
    connection is closed at once, but Postgres drops its locks only when the backend notices; until
    then the queue rightly treats its item as still in hand."""
    import time

    def wait(timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with warehouse.begin() as conn:
                held = conn.execute(text(
                    """SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
                         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"""
                )).scalar_one()
            if not held:
                return
            time.sleep(0.02)
        raise AssertionError("a killed worker's advisory lock was never released")

    return wait


@pytest.fixture
def letzshop_store(warehouse, vault, letzshop_sim):
    """A factory: store CODE with a Letzshop account on the simulator (its key stored) and products with
    the given SKUs; the simulator's inventory intake is emptied. Returns (account, simulator state,
    the intake's URL for stock files)."""
    from marketsync.assets.accounts import upsert_account

    state, endpoint = letzshop_sim
    state.reset_inventory()

    def make(code: str, skus=()):
        with warehouse.begin() as conn:
            account = upsert_account(conn, code, "letzshop", endpoint, {})
            vault.store(conn, account.account_id, {"api_key": SIM_KEY})
            for sku in skus:
                conn.execute(text("INSERT INTO core.products (store_id, sku) VALUES (:s, :sku)"),
                             {"s": account.store_id, "sku": sku})
        return account, state, endpoint.replace("/graphql", "/inventory/")

    return make


# Test levels (pyproject.toml registers the markers; `pytest -m unit` runs in seconds):
#   unit         pure functions and in-process objects: no database, no server, no subprocess
#   integration  a real Postgres, a simulator or another server on loopback, or a subprocess
#   e2e          the installed commands and the Dagster daemon or UI end to end
# A test may say its level with a marker; otherwise it is read off what it uses: a test module in
# E2E_MODULES is e2e, a test that requests a fixture in SERVICE_FIXTURES (directly or through another
# fixture) is integration, anything else is unit.
LEVELS = ("unit", "integration", "e2e")
E2E_MODULES = {"test_daemon", "test_dev", "test_demo", "test_ui_browser", "test_celery_profile"}
SERVICE_FIXTURES = {
    "server_url", "database_url",  # Postgres
    "letzshop_sim", "sim", "ffn", "sheets", "cws", "ebay", "amazon", "letzshop", "world",  # simulators
    "http_server", "http_feeds", "server", "serve", "receiver", "listener", "sftp", "sftp_drop", "ftp_root",
    "workers",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if any(item.get_closest_marker(level) for level in LEVELS):
            continue
        module = item.module.__name__.rsplit(".", 1)[-1]
        if module in E2E_MODULES:
            item.add_marker(pytest.mark.e2e)
        elif SERVICE_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.integration)
        else:
            item.add_marker(pytest.mark.unit)


class _NotAUnitTest(AssertionError):
    pass


@pytest.fixture(autouse=True)
def _unit_tests_stay_in_process(request, monkeypatch):
    """Keeps the levels honest: a test classed unit that opens a socket or starts a process fails, saying
    it should be marked integration."""
    if request.node.get_closest_marker("unit") is None:
        yield
        return
    import socket
    import subprocess

    def refuse(what):
        def refused(*args, **kwargs):
            raise _NotAUnitTest(f"{request.node.nodeid} {what}: mark it @pytest.mark.integration")
        return refused

    monkeypatch.setattr(socket.socket, "connect", refuse("opened a network connection"))
    monkeypatch.setattr(socket.socket, "bind", refuse("started a server"))
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse("started a process"))
    yield


@pytest.fixture
def roles(warehouse):
    """Role names of this run (roles are the server's, not the test database's); dropped afterwards."""
    suffix = uuid.uuid4().hex[:10]
    made: list[str] = []

    def name(label: str) -> str:
        made.append(f"ms_{label}_{suffix}")
        return made[-1]

    yield name
    with warehouse.begin() as conn:
        for role in reversed(made):
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
