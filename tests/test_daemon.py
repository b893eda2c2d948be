"""The real `dagster-daemon` (Postgres storage, the code location in its own code server, runs launched as
processes) against stores on Letzshop simulators, as `make dev` and production run it. One daemon serves
the whole module; every store is set up before it starts, so the scenarios play out side by side and
each test waits (bounded) for the outcome of its own:

- alpha, beta: imported once and followed up once each; an order committed late with a lower id than
  orders already followed up (out-of-order commits of two stores) is still followed up;
- gone: a store with new orders whose account is disabled (no partition) never stops the others;
- killed: an import whose run process is killed mid-request fails, is retried within seconds (the first
  backoff step is set to 5 s through the data-independent setting MARKETSYNC_IMPORT_FIRST_RETRY_SECONDS),
  its sync-log row is closed and its orders are followed up; one alert, closed by the next success;
- loop: Letzshop answering the same page cursor forever makes a bounded, worded failure and one alert;
- beta's burst of confirmations goes out through one drain at a time, each shipment confirmed once;
- no account ever has two imports queued or running at once, and no sensor tick fails;
- alpha and beta, importing at once, notify each new order once to their webhooks (the follow-up's
  transaction queues the notice, the outbound sensor's drains post it, signed).

Nothing waits for a real sync interval: new accounts are due at once (never synced)."""
from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import psutil
import psycopg
import pytest
import yaml
from sqlalchemy import text

from marketsync.resources import migrations
from marketsync.resources.database import (
    REPO_ROOT,
    dagster_storage_url,
    engine_for,
    ensure_database,
    libpq_url,
    with_database,
)
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse
from tests.conftest import SIM_KEY

DEADLINE_SECONDS = 480
WEBHOOK_SECRET = "daemon-test-webhook-secret"
SIM_SIZE = 30


def _drop(server_url: str, url: str) -> None:
    with psycopg.connect(libpq_url(with_database(server_url, "postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[-1]}" WITH (FORCE)')


def _simulator(seed: int):
    from marketsync.sandbox.http import serve_in_thread
    from marketsync.sandbox.letzshop.app import create_app
    from marketsync.sandbox.letzshop.state import LetzshopState

    state = LetzshopState(seed=seed, size=SIM_SIZE, api_keys=(SIM_KEY,))
    return state, serve_in_thread(create_app(state))


def _add_store(warehouse, vault, store: str, endpoint: str, **settings):
    from marketsync.assets.accounts import upsert_account

    with warehouse.begin() as conn:
        account = upsert_account(conn, store, "letzshop", endpoint,
                                 {"page_size": 7, "sync_interval_minutes": 60, **settings})
        vault.store(conn, account.account_id, {"api_key": SIM_KEY})
    return account


def _load_catalog(warehouse, account, path: Path, seed: int) -> None:
    from marketsync.assets.catalog.products import import_products_csv
    from marketsync.sandbox.letzshop.data import write_catalog_csv

    write_catalog_csv(path, seed, SIM_SIZE)
    with warehouse.begin() as conn:
        import_products_csv(conn, account.store_id, path)


def _insert_order(conn, account, number: str) -> int:
    """An order as an import leaves it (no items: nothing to match), waiting for its follow-up."""
    return conn.execute(text(
        """INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id,
                                    order_number, channel_state, source_payload_sha)
           VALUES (:s, :a, 'letzshop', :n, :n, :n, 'unconfirmed', 'sha') RETURNING order_id"""),
        {"s": account.store_id, "a": account.account_id, "n": number}).scalar_one()


@pytest.fixture(scope="module")
def world(server_url, secret_key, tmp_path_factory):
    """Five stores on four simulators, a warehouse and Dagster storage of their own, and the daemon."""
    home = tmp_path_factory.mktemp("dagster_home")
    database_url = ensure_database(server_url, f"marketsync_daemon_{uuid.uuid4().hex[:10]}")
    storage = ensure_database(server_url, f"marketsync_daemon_dagster_{uuid.uuid4().hex[:10]}")
    migrations.upgrade(database_url)
    warehouse, vault = Warehouse(database_url=database_url), CredentialVault(secret_keys=secret_key)
    sims = {name: _simulator(seed) for name, seed in (("main", 7), ("burst", 11), ("loop", 13), ("killed", 17))}
    servers = {name: server.__enter__() for name, (_, server) in sims.items()}
    states = {name: state for name, (state, _) in sims.items()}
    graphql = {name: f"{server.base_url}/graphql" for name, server in servers.items()}
    accounts = {
        "alpha": _add_store(warehouse, vault, "alpha", graphql["main"]),
        "beta": _add_store(warehouse, vault, "beta", graphql["burst"]),
        "gone": _add_store(warehouse, vault, "gone", graphql["main"]),
        "loop": _add_store(warehouse, vault, "loop", graphql["loop"]),
        # Long enough a timeout that the slow first answer is still awaited when the run is killed.
        "killed": _add_store(warehouse, vault, "killed", graphql["killed"], request_timeout_seconds=280),
    }
    _load_catalog(warehouse, accounts["beta"], home / "beta.csv", 11)
    with warehouse.begin() as conn:
        _insert_order(conn, accounts["gone"], "GONE-1")
        conn.execute(text("UPDATE ops.accounts SET enabled = false WHERE account_id = :a"),
                     {"a": accounts["gone"].account_id})
    from marketsync.assets.accounts import upsert_account
    from marketsync.assets.alerts.routes import add_route
    from marketsync.sandbox.webhook import WebhookReceiver

    receiver = WebhookReceiver(WEBHOOK_SECRET)
    with warehouse.begin() as conn:
        for store in ("alpha", "beta"):
            hook = upsert_account(conn, store, "webhook", receiver.url)
            vault.store(conn, hook.account_id, {"secret": WEBHOOK_SECRET})
            add_route(conn, store, "new_orders", "webhook")
    states["loop"].add_fault("repeat_cursor", count=100_000, operation="query")
    states["killed"].add_fault("slow", count=1, seconds=240, operation="query")

    (home / "dagster.yaml").write_text(yaml.safe_dump(yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())))
    env = {**os.environ, "DAGSTER_HOME": str(home), "DATABASE_URL": database_url,
           "MARKETSYNC_DAGSTER_DATABASE_URL": dagster_storage_url(storage), "MARKETSYNC_SECRET_KEYS": secret_key,
           "MARKETSYNC_DAGSTER_ARTIFACTS": str(home / "storage"), "MARKETSYNC_DAGSTER_COMPUTE_LOGS": str(home / "logs"),
           "MARKETSYNC_IMPORT_FIRST_RETRY_SECONDS": "5",
           # The simulator's orders were placed long ago: here every order imported is news.
           "MARKETSYNC_NEW_ORDER_MAX_AGE_HOURS": "1000000"}
    daemon = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", str(REPO_ROOT / "workspace.yaml")],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    world = SimpleNamespace(warehouse=warehouse, vault=vault, storage=storage, states=states, ports={
        name: int(server.base_url.rsplit(":", 1)[1]) for name, server in servers.items()},
        accounts=accounts, daemon=daemon, deadline=time.monotonic() + DEADLINE_SECONDS, webhook=receiver.recorder)
    try:
        yield world
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()
        for _, server in sims.values():
            server.__exit__(None, None, None)
        receiver.stop()
        engine_for(database_url).dispose()
        _drop(server_url, database_url)
        _drop(server_url, storage)


def _wait(world, what: str, condition):
    """Polls `condition` until it holds (returns its value) or the module's deadline passes."""
    while True:
        value = condition()
        if value:
            return value
        assert world.daemon.poll() is None, "the daemon stopped by itself"
        assert time.monotonic() < world.deadline, f"not within {DEADLINE_SECONDS} s of the daemon's start: {what}"
        time.sleep(2)


def _runs(world) -> list[SimpleNamespace]:
    """Every run in Dagster's storage with its tags; none before the daemon has created its tables."""
    with psycopg.connect(libpq_url(world.storage)) as conn:
        try:
            rows = conn.execute(
                """SELECT r.run_id, r.pipeline_name, r.status, r.create_timestamp, r.end_time,
                          coalesce(jsonb_object_agg(t.key, t.value) FILTER (WHERE t.key IS NOT NULL), '{}')
                   FROM runs r LEFT JOIN run_tags t ON t.run_id = r.run_id
                   GROUP BY r.run_id, r.pipeline_name, r.status, r.create_timestamp, r.end_time
                   ORDER BY r.create_timestamp""").fetchall()
        except psycopg.errors.UndefinedTable:
            return []
    return [SimpleNamespace(run_id=r[0], job=r[1], status=r[2], created=r[3].timestamp(), ended=r[4], tags=r[5])
            for r in rows]


def _store_runs(world, store: str, kind: str) -> list[SimpleNamespace]:
    return [run for run in _runs(world)
            if run.tags.get("marketsync/store") == store and run.tags.get("marketsync/run") == kind]


def _orders(world, store: str) -> tuple[int, int]:
    with world.warehouse.begin() as conn:
        return conn.execute(text(
            """SELECT count(*), count(o.followed_up_at) FROM core.orders o
               JOIN ops.stores s USING (store_id) WHERE s.code = :s"""), {"s": store}).one()


def _all_followed_up(world, store: str) -> bool:
    orders, followed = _orders(world, store)
    return orders > 0 and orders == followed


def _finished(run) -> bool:
    return run.status in ("SUCCESS", "FAILURE", "CANCELED")


def _run_process(world, port: int) -> psutil.Process | None:
    """The process of the run that is talking to the simulator on `port`: the run worker the code server
    started (the ancestor just below the code server) of the process holding the connection."""
    for process in psutil.process_iter():
        try:
            if not any(c.raddr and c.raddr.port == port for c in process.net_connections(kind="tcp")):
                continue
            chain = [process, *process.parents()]
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        for child, parent in itertools.pairwise(chain):
            if "grpc" in " ".join(parent.cmdline()):
                return child
    return None


def test_a_killed_import_is_retried_within_seconds_and_its_orders_followed_up(world):
    worker = _wait(world, "killed's import waiting on its slow first page",
                   lambda: _run_process(world, world.ports["killed"]))
    for process in [*worker.children(recursive=True), worker]:
        process.kill()
    _wait(world, "killed's orders all followed up", lambda: _all_followed_up(world, "killed"))
    imports = _store_runs(world, "killed", "import")
    assert [r.status for r in imports] == ["FAILURE", "SUCCESS"], imports
    # The retry came after the 5-second first backoff step and the next tick, not a 60-minute interval.
    assert imports[1].created - imports[0].ended < 90
    with world.warehouse.begin() as conn:
        alerts = conn.execute(text("SELECT occurrences, closed_at FROM ops.alerts WHERE account_id = :a "
                                   "AND source = 'run_failure'"), {"a": world.accounts["killed"].account_id}).all()
    assert len(alerts) == 1 and alerts[0].closed_at is not None, alerts
    def row_closed() -> bool:
        with world.warehouse.engine.connect() as conn:  # returned to the pool after each poll
            return conn.execute(text(
                "SELECT count(*) = 0 FROM ops.sync_log WHERE account_id = :a AND completed_at IS NULL"),
                {"a": world.accounts["killed"].account_id}).scalar_one()

    _wait(world, "the killed run's sync-log row closed by the sweep", row_closed)


def test_each_store_is_imported_once_and_followed_up_once(world):
    for store in ("alpha", "beta"):
        _wait(world, f"{store}'s orders all followed up", lambda store=store: _all_followed_up(world, store))
        _wait(world, f"{store}'s runs ended",
              lambda store=store: all(_finished(r) for r in _store_runs(world, store, "followup")))
        imports = _store_runs(world, store, "import")
        followups = _store_runs(world, store, "followup")
        assert [r.status for r in imports] == ["SUCCESS"], imports
        assert [r.status for r in followups] == ["SUCCESS"], followups
    assert _orders(world, "alpha")[0] == SIM_SIZE


def _notified(world) -> Counter:
    """(store, order number) of every new-order notice the webhook receiver took."""
    return Counter((d["store"], order["order_number"]) for d in world.webhook.documents
                   if d["type"] == "order.created" for order in d["orders"])


def _followed_up_orders(world) -> set[tuple[str, str]]:
    with world.warehouse.begin() as conn:
        return set(conn.execute(text(
            "SELECT s.code, o.order_number FROM core.orders o JOIN ops.stores s USING (store_id) "
            "WHERE s.code IN ('alpha', 'beta') AND o.followed_up_at IS NOT NULL")).tuples())


def test_new_orders_of_two_stores_importing_at_once_are_notified_once_each(world):
    _wait(world, "alpha and beta followed up",
          lambda: _all_followed_up(world, "alpha") and _all_followed_up(world, "beta"))
    orders = _followed_up_orders(world)
    assert {store for store, _ in orders} == {"alpha", "beta"}
    _wait(world, "every followed-up order of alpha and beta notified",
          lambda: orders <= set(_notified(world)))
    notified = _notified(world)
    assert set(notified.values()) == {1}, [k for k, n in notified.items() if n > 1]
    assert set(notified) <= _followed_up_orders(world)
    assert world.webhook.refused_signatures == 0 and world.webhook.duplicates == 0


def test_an_order_committed_late_with_a_lower_id_is_still_followed_up(world):
    _wait(world, "alpha and beta followed up",
          lambda: _all_followed_up(world, "alpha") and _all_followed_up(world, "beta"))
    late = world.warehouse.engine.connect()
    transaction = late.begin()
    try:
        lower = _insert_order(late, world.accounts["alpha"], "LATE-ALPHA")  # takes its id now, commits later
        with world.warehouse.begin() as conn:
            higher = _insert_order(conn, world.accounts["beta"], "EARLY-BETA")
        assert lower < higher
        _wait(world, "beta's early order followed up", lambda: _all_followed_up(world, "beta"))
        transaction.commit()
    finally:
        late.close()
    _wait(world, "alpha's late order followed up", lambda: _all_followed_up(world, "alpha"))


def test_a_store_without_a_partition_never_stops_the_others(world):
    _wait(world, "alpha followed up", lambda: _all_followed_up(world, "alpha"))
    assert _orders(world, "gone") == (1, 0)
    assert [r for r in _runs(world) if r.tags.get("marketsync/store") == "gone"] == []


def test_a_page_cursor_that_repeats_fails_in_words_with_one_alert(world):
    failed = _wait(world, "loop's first import failed", lambda: [
        r for r in _store_runs(world, "loop", "import") if r.status == "FAILURE"])

    def counted() -> bool:  # the failure sensor sees each failed run a tick after it ended
        with world.warehouse.begin() as conn:
            return conn.execute(text("SELECT coalesce(max(occurrences), 0) >= :n FROM ops.alerts WHERE account_id = :a "
                                     "AND source = 'run_failure'"),
                                {"n": len(failed), "a": world.accounts["loop"].account_id}).scalar_one()

    _wait(world, "each failed run of loop counted on its alert", counted)
    with world.warehouse.begin() as conn:
        alerts = conn.execute(text("SELECT message, occurrences, closed_at FROM ops.alerts WHERE account_id = :a "
                                   "AND source = 'run_failure'"), {"a": world.accounts["loop"].account_id}).all()
        rows = conn.execute(text("SELECT completed_at, errors::text FROM ops.sync_log WHERE account_id = :a"),
                            {"a": world.accounts["loop"].account_id}).all()
    assert len(alerts) == 1 and alerts[0].closed_at is None and alerts[0].occurrences >= len(failed), alerts
    assert "loop" in alerts[0].message and "letzshop" in alerts[0].message and "cursor" in alerts[0].message
    # Each try stopped at the repeated cursor: a few requests, not thousands.
    tries = len([r for r in rows if r.completed_at is not None])
    assert tries >= 1 and all("cursor" in errors for completed, errors in rows if completed is not None)
    assert world.states["loop"].fault_counts["repeat_cursor"] <= 3 * (len(rows) + 1)


def test_a_burst_of_confirmations_goes_out_once_through_one_drain_at_a_time(world):
    from marketsync.assets.orders.actions import confirm_order, find_order
    from marketsync.resources.errors import MarketsyncError

    _wait(world, "beta followed up", lambda: _all_followed_up(world, "beta"))
    queued = []
    with world.warehouse.begin() as conn:
        numbers = conn.execute(text(
            "SELECT order_number FROM core.orders o JOIN ops.stores s USING (store_id) "
            "WHERE s.code = 'beta' AND o.channel_shipment_id NOT LIKE 'EARLY%' ORDER BY 1")).scalars().all()
        for number in numbers:
            try:
                queued.append(confirm_order(conn, find_order(conn, number, "beta"), triggered_by="test-burst"))
            except MarketsyncError:
                pass  # an order with an open exception cannot be confirmed
    assert len(queued) >= 10
    account_id = world.accounts["beta"].account_id
    def all_sent() -> bool:
        with world.warehouse.engine.connect() as conn:  # returned to the pool after each poll
            return conn.execute(text(
                "SELECT count(*) FILTER (WHERE status = 'succeeded') = count(*) FROM ops.outbound_queue "
                "WHERE account_id = :a"), {"a": account_id}).scalar_one()

    _wait(world, "every confirmation sent", all_sent)
    confirmed = Counter(record.shipment_id for record in world.states["burst"].mutation_log
                        if record.operation == "confirmInventoryUnits")
    assert len(confirmed) == len(queued) and set(confirmed.values()) == {1}, confirmed
    drains = sorted((r for r in _runs(world) if r.tags.get("marketsync/outbound_account") == str(account_id)),
                    key=lambda r: r.created)
    assert drains and all(_finished(r) for r in drains[:-1])
    for earlier, later in itertools.pairwise(drains):
        assert earlier.ended is not None and later.created >= earlier.ended, drains
    assert all(r.status == "SUCCESS" for r in drains if _finished(r)), drains


def test_no_account_ever_has_two_imports_at_once_and_no_tick_fails(world):
    _wait(world, "the killed store recovered", lambda: _all_followed_up(world, "killed"))
    runs = _runs(world)
    by_account: dict[tuple[str, str], list] = {}
    for run in runs:
        if run.tags.get("marketsync/run") == "import":
            by_account.setdefault((run.tags["marketsync/channel"], run.tags["marketsync/store"]), []).append(run)
    for account, imports in by_account.items():
        for earlier, later in itertools.pairwise(imports):
            assert earlier.ended is not None and later.created >= earlier.ended, (account, imports)
    unexpected = [r for r in runs if r.status == "FAILURE" and r.tags.get("marketsync/store") not in ("loop", "killed")]
    assert unexpected == []
    with psycopg.connect(libpq_url(world.storage)) as conn:
        failed_ticks = conn.execute(
            "SELECT tick_body FROM job_ticks WHERE type = 'SENSOR' AND status = 'FAILURE'").fetchall()
    assert failed_ticks == []
