"""The real `dagster-daemon` (Postgres storage, the code location in its own code server, runs launched
as processes) against a store on the Letzshop simulator, as `make dev` and production run it: the
partitions sensor registers the configured account, auto-sync imports it once, the new-orders sensor
follows the batch up once, and no run fails. Bounded in time; the store is due from the start (never
synced), so nothing waits for a real interval."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import yaml
from sqlalchemy import text

from resources.database import REPO_ROOT, dagster_storage_url, ensure_database, libpq_url, with_database

DEADLINE_SECONDS = 300


@pytest.fixture
def dagster_home(tmp_path, server_url, database_url, secret_key):
    """A DAGSTER_HOME with the project's dagster.yaml and Dagster's storage in a database of its own,
    and the environment the daemon's processes read."""
    storage = ensure_database(server_url, f"marketsync_daemon_{uuid.uuid4().hex[:10]}")
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())))
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "DATABASE_URL": database_url,
           "MARKETSYNC_DAGSTER_DATABASE_URL": dagster_storage_url(storage), "MARKETSYNC_SECRET_KEYS": secret_key,
           "MARKETSYNC_DAGSTER_ARTIFACTS": str(tmp_path / "storage"),
           "MARKETSYNC_DAGSTER_COMPUTE_LOGS": str(tmp_path / "logs")}
    yield env, storage
    with psycopg.connect(libpq_url(with_database(server_url, "postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{storage.rsplit("/", 1)[-1]}" WITH (FORCE)')


def _runs(storage_url: str) -> list[tuple[str, str]]:
    """The runs in Dagster's storage; none before the daemon has created its tables."""
    with psycopg.connect(libpq_url(storage_url)) as conn:
        try:
            return conn.execute("SELECT pipeline_name, status FROM runs ORDER BY create_timestamp").fetchall()
        except psycopg.errors.UndefinedTable:
            return []


def _followed_up(warehouse) -> tuple[int, int]:
    with warehouse.begin() as conn:
        return conn.execute(text("SELECT count(*), count(followed_up_at) FROM core.orders")).one()


def test_the_daemon_imports_and_follows_up_a_store_once_with_no_failed_run(shop, dagster_home):
    env, storage = dagster_home
    with shop.warehouse.begin() as conn:
        conn.execute(text("UPDATE ops.accounts SET sync_interval_minutes = 60"))
    daemon = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", str(REPO_ROOT / "workspace.yaml")],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            orders, followed = _followed_up(shop.warehouse)
            runs = _runs(storage)
            if orders and followed == orders and runs and all(status in ("SUCCESS", "FAILURE", "CANCELED")
                                                             for _, status in runs):
                break
            assert daemon.poll() is None, "the daemon stopped by itself"
            time.sleep(2)
        time.sleep(5)  # a tick after the batch was followed up must not ask for more
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()

    orders, followed = _followed_up(shop.warehouse)
    assert orders > 0 and followed == orders, f"{followed} of {orders} orders followed up in {DEADLINE_SECONDS} s"
    runs = _runs(storage)
    assert [status for _, status in runs if status != "SUCCESS"] == [], runs
    jobs = [job for job, _ in runs]
    assert jobs.count("letzshop_import_job") == 1 and jobs.count("letzshop_order_followup_job") == 1, jobs
    with shop.warehouse.begin() as conn:
        open_rows = conn.execute(text("SELECT count(*) FROM ops.sync_log WHERE completed_at IS NULL")).scalar_one()
        units_pending = conn.execute(text(
            "SELECT count(*) FROM core.order_items WHERE match_status = 'pending'")).scalar_one()
    assert open_rows == 0 and units_pending == 0
