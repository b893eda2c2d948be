"""The `celery` executor profile (MARKETSYNC_EXECUTOR=celery): every job's steps run on Celery workers
(dagster-celery, RabbitMQ as the broker, Redis as the result backend), a pooled step on its pool's queue.

- Every pooled step of every job in the code location goes to its pool's queue, every other step to the
  default queue (the execution plans, no broker needed).
- Two real workers (`marketsync workers start`, processes of their own) on RabbitMQ at 127.0.0.1:5672 and
  Redis at 127.0.0.1:6379 run a Letzshop order import against the simulator, its follow-up and an outbound
  drain, each orchestrated by a run process as the daemon's run workers do (`dagster job execute`), with
  Dagster's storage in Postgres shared by all of them (a DAGSTER_HOME of the test's own).
- The worker running the drain is killed with SIGKILL while a confirmation it sent is applied at Letzshop
  and its answer still on the way: RabbitMQ gives the step's unacknowledged message to the other worker,
  the same run ends in success, and once the dead attempt's lease has run out the next drain re-reads
  the shipment and sends nothing: every confirmation reached the simulator exactly once.

The broker tests are skipped, saying why, when RabbitMQ or Redis is not reachable. Each run uses queues
of its own (MARKETSYNC_CELERY_QUEUE_PREFIX), so runs sharing the broker never take each other's steps.
"""
from __future__ import annotations

import json
import os
import signal
import socket
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
from dagster._core.execution.api import create_execution_plan
from dagster_celery.defaults import task_default_queue
from dagster_celery.tags import DAGSTER_CELERY_QUEUE_TAG
from sqlalchemy import text

from marketsync.pipelines.definitions import defs
from marketsync.resources.celery_queues import DEFAULT_QUEUE, QUEUE_TAG, pool_queue_tags, queue_name
from marketsync.resources.database import REPO_ROOT, dagster_storage_url, ensure_database, libpq_url, with_database
from tests.conftest import SIM_KEY

BROKER = "amqp://guest:guest@127.0.0.1:5672//"
BACKEND = "redis://127.0.0.1:6379/0"
BIN = Path(sys.executable).parent
RUN_TIMEOUT = 180  # seconds a run may take, from its process's start (loading the code location) to its end


# ---------------------------------------------------------------- queues per pool (no broker)
@pytest.mark.unit
def test_every_pooled_step_of_every_job_goes_to_its_pools_queue(monkeypatch):
    """The execution plan of every job (the implicit asset job too): a step whose op holds pool X carries
    the dagster-celery queue tag X, any other step none (the default queue)."""
    assert QUEUE_TAG == DAGSTER_CELERY_QUEUE_TAG and task_default_queue == DEFAULT_QUEUE
    # The plans resolve the resources' EnvVars (nothing connects).
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("MARKETSYNC_SECRET_KEYS", "not-a-key")
    from marketsync.sensors.fleet import FLEET_JOBS

    needs_config = {fleet.job.name: fleet.run_config(["a-store"]) for fleet in FLEET_JOBS.values()}
    pools, plain = Counter(), 0
    for job in defs.get_repository_def().get_all_jobs():
        for step in create_execution_plan(job, run_config=needs_config.get(job.name)).steps:
            if step.pool:
                assert step.tags.get(QUEUE_TAG) == step.pool, (job.name, step.key, step.pool, step.tags)
                pools[step.pool] += 1
            else:
                assert QUEUE_TAG not in step.tags, (job.name, step.key, step.tags)
                plain += 1
    assert {"letzshop_api", "amazon_sp_api", "ebay_api", "jtl_ffn_api", "codeswholesale_api", "google_sheets_api",
            "feed_downloads", "stock_push", "smtp", "webhooks"} <= set(pools), pools
    assert plain > 0


@pytest.mark.unit
def test_the_profile_is_chosen_by_the_environment(monkeypatch):
    from marketsync.pipelines.environment import ConfigurationError
    from marketsync.pipelines.executor_profile import celery_config, executor_name, run_executor

    monkeypatch.delenv("MARKETSYNC_EXECUTOR", raising=False)
    assert executor_name() == "default" and run_executor() is None
    monkeypatch.setenv("MARKETSYNC_EXECUTOR", "Celery")
    assert run_executor().name == "celery"
    monkeypatch.setenv("MARKETSYNC_EXECUTOR", "kubernetes")
    with pytest.raises(ConfigurationError, match="MARKETSYNC_EXECUTOR must be one of default, celery"):
        executor_name()
    monkeypatch.setenv("MARKETSYNC_CELERY_QUEUE_PREFIX", "acme.")
    assert pool_queue_tags("letzshop_api") == {QUEUE_TAG: "acme.letzshop_api"} and pool_queue_tags(None) == {}
    config = celery_config()
    assert config["task_default_queue"] == "acme.dagster" == queue_name(None)
    assert config["task_acks_late"] and config["task_reject_on_worker_lost"]


# ---------------------------------------------------------------- two workers on RabbitMQ
def _unreachable() -> str | None:
    """Why the broker tests cannot run here, or None."""
    for what, port in (("RabbitMQ", 5672), ("Redis", 6379)):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except OSError as exc:
            return f"{what} is not reachable at 127.0.0.1:{port} ({exc}); the celery profile's tests need it"
    return None


def _drop_database(server_url: str, url: str) -> None:
    with psycopg.connect(libpq_url(with_database(server_url, "postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[-1]}" WITH (FORCE)')


def _delete_queues(prefix: str) -> None:
    """The run's own queues and their exchanges off the broker (the workers declared them durable)."""
    from kombu import Connection

    from marketsync.pipelines.celery_worker import code_location_queues

    with Connection(BROKER, connect_timeout=5) as connection:
        for short in code_location_queues():
            channel = connection.channel()
            try:
                channel.queue_delete(f"{prefix}{short}")
                channel.exchange_delete(f"{prefix}{short}")
            except Exception:  # noqa: S110 - never declared (no step and no worker used it)
                pass
            finally:
                channel.close()


class Worker:
    """`marketsync workers start` in a process group of its own (its Celery pool processes with it)."""

    def __init__(self, name: str, env: dict, log: Path, *args: str):
        self.name, self.log = name, log
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [str(BIN / "marketsync"), "workers", "start", "--concurrency", "1", "--name", name, *args],
                cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, deadline: float) -> None:
        while " ready." not in self.log.read_text():
            assert self.process.poll() is None, f"worker {self.name} stopped:\n{self.log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"worker {self.name} not ready:\n{self.log.read_text()[-3000:]}"
            time.sleep(0.5)

    def processes(self) -> list[psutil.Process]:
        try:
            main = psutil.Process(self.process.pid)
            return [main, *main.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def talking_to(self, port: int) -> psutil.Process | None:
        """The process of this worker (its pool process running a step) connected to `port`."""
        for process in self.processes():
            try:
                if any(c.raddr and c.raddr.port == port for c in process.net_connections(kind="tcp")):
                    return process
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return None

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


@pytest.fixture
def celery_world(server_url, database_url, warehouse, vault, secret_key, letzshop_sim, tmp_path, monkeypatch):
    """Store `shop` on the Letzshop simulator (auto-confirm on, its catalog loaded), a Dagster home with
    Postgres storage of its own, the celery profile's environment, and two workers taking every queue."""
    reason = _unreachable()
    if reason:
        pytest.skip(reason)
    from dagster import DagsterInstance

    from marketsync.assets.accounts import upsert_account
    from marketsync.assets.catalog.products import import_products_csv
    from marketsync.sandbox.letzshop.data import write_catalog_csv

    state, endpoint = letzshop_sim
    with warehouse.begin() as conn:
        # A request timeout long enough that the drain is still waiting for its answer when it is killed.
        account = upsert_account(conn, "shop", "letzshop", endpoint,
                                 {"page_size": 7, "request_timeout_seconds": 120, "auto_confirm": True})
        vault.store(conn, account.account_id, {"api_key": SIM_KEY})
    write_catalog_csv(tmp_path / "catalog.csv", 7, 30)
    with warehouse.begin() as conn:
        import_products_csv(conn, account.store_id, tmp_path / "catalog.csv")

    prefix = f"t{uuid.uuid4().hex[:8]}."
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())))
    storage = ensure_database(server_url, f"marketsync_celery_dagster_{uuid.uuid4().hex[:10]}")
    settings = {
        "DAGSTER_HOME": str(home), "DATABASE_URL": database_url, "MARKETSYNC_SECRET_KEYS": secret_key,
        "MARKETSYNC_DAGSTER_DATABASE_URL": dagster_storage_url(storage), "MARKETSYNC_HOME": str(tmp_path / "home"),
        "MARKETSYNC_DAGSTER_ARTIFACTS": str(home / "storage"), "MARKETSYNC_DAGSTER_COMPUTE_LOGS": str(home / "logs"),
        "MARKETSYNC_EXECUTOR": "celery", "MARKETSYNC_CELERY_BROKER": BROKER, "MARKETSYNC_CELERY_BACKEND": BACKEND,
        "MARKETSYNC_CELERY_QUEUE_PREFIX": prefix,
    }
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    env = dict(os.environ)
    workers = {}
    try:
        workers = {name: Worker(f"{prefix}{name}@%h", env, tmp_path / f"worker-{name}.log")
                   for name in ("a", "b")}
        deadline = time.monotonic() + 120
        for worker in workers.values():
            worker.wait_ready(deadline)
        with DagsterInstance.from_config(str(home)) as instance:
            instance.add_dynamic_partitions("letzshop_accounts", ["shop"])
            yield SimpleNamespace(state=state, port=int(endpoint.split(":")[2].split("/")[0]), account=account,
                                  warehouse=warehouse, instance=instance, env=env, prefix=prefix, workers=workers,
                                  tmp=tmp_path)
    finally:
        for worker in workers.values():
            worker.stop()
        _delete_queues(prefix)
        _drop_database(server_url, storage)


def _launch(world, job: str, tags: dict) -> subprocess.Popen:
    """A run of `job` orchestrated by a process of its own, as a run worker of the daemon does it."""
    log = (world.tmp / f"{job}-{uuid.uuid4().hex[:6]}.log").open("w")
    return subprocess.Popen(
        [str(BIN / "dagster"), "job", "execute", "-m", "marketsync.pipelines.definitions", "-a", "defs", "-j", job,
         "--tags", json.dumps(tags)], cwd=REPO_ROOT, env=world.env, stdout=log, stderr=subprocess.STDOUT)


def _finish(world, process: subprocess.Popen, job: str):
    process.wait(timeout=RUN_TIMEOUT)
    from dagster import RunsFilter

    runs = world.instance.get_runs(filters=RunsFilter(job_name=job), limit=1)
    assert runs, f"no run of {job} recorded: {Path(process.args[0]).name} exited {process.returncode}"
    return runs[0]


def _run(world, job: str, tags: dict):
    return _finish(world, _launch(world, job, tags), job)


def _engine_messages(world, run_id: str) -> list[tuple[str | None, str, dict]]:
    """(step, message, metadata) of every engine event of the run: dagster-celery's submissions and runs."""
    found = []
    for record in world.instance.all_logs(run_id):
        event = record.dagster_event
        if event is not None and event.event_type_value == "ENGINE_EVENT":
            metadata = {k: getattr(v, "value", v) for k, v in (event.engine_event_data.metadata or {}).items()}
            found.append((event.step_key, record.message, metadata))
    return found


def _ran_on(world, run_id: str, step: str) -> list[str]:
    """The Celery workers that started `step` of the run, in order."""
    return [meta["Celery worker"] for key, message, meta in _engine_messages(world, run_id)
            if key == step and "in celery worker" in message]


def _queue_of(world, run_id: str, step: str) -> str:
    for key, message, _ in _engine_messages(world, run_id):
        if key == step and message.startswith("Submitting celery task"):
            return message.rsplit('to queue "', 1)[1].rstrip('".')
    raise AssertionError(f"{step} was never sent to a Celery queue")


def _outbound(world) -> Counter:
    with world.warehouse.begin() as conn:
        return Counter(dict(conn.execute(text(
            "SELECT status, count(*) FROM ops.outbound_queue WHERE account_id = :a GROUP BY status"),
            {"a": world.account.account_id}).all()))


def _confirmations(world) -> Counter:
    """Shipment -> how many confirmInventoryUnits calls the simulator applied to it."""
    return Counter(r.shipment_id for r in world.state.mutation_log if r.operation == "confirmInventoryUnits")


@pytest.mark.parametrize("kill", ["worker", "pool_process"])
def test_two_workers_run_import_followup_and_drain_and_a_worker_killed_mid_drain_sends_nothing_twice(
        celery_world, kill):
    """kill=worker: the worker's whole process group (a lost machine, kill -9 of the worker); kill=pool_process:
    only the pool process running the step (the OOM killer), its worker living on."""
    world = celery_world
    store_tags = {"dagster/partition": "shop", "marketsync/store": "shop", "marketsync/channel": "letzshop"}

    imported = _run(world, "letzshop_import_job", {**store_tags, "marketsync/run": "import"})
    assert imported.status.value == "SUCCESS", _engine_messages(world, imported.run_id)
    assert _queue_of(world, imported.run_id, "letzshop_order_import") == f"{world.prefix}letzshop_api"
    assert _ran_on(world, imported.run_id, "letzshop_order_import")
    with world.warehouse.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM core.orders")).scalar_one() == 30

    followed = _run(world, "letzshop_order_followup_job", {**store_tags, "marketsync/run": "followup"})
    assert followed.status.value == "SUCCESS", _engine_messages(world, followed.run_id)
    assert _queue_of(world, followed.run_id, "core__letzshop_order_matches") == f"{world.prefix}dagster"
    with world.warehouse.begin() as conn:
        assert conn.execute(text("SELECT count(*) = count(followed_up_at) FROM core.orders")).scalar_one()
    queued = _outbound(world)["pending"]
    assert queued >= 5, _outbound(world)

    # The first confirmation is applied at Letzshop and its answer never comes: the drain step waits.
    world.state.add_fault("apply_then_drop", then="hang", operation="mutation", seconds=90)
    drain_tags = {"marketsync/outbound_account": str(world.account.account_id)}
    drain = _launch(world, "outbound_job", drain_tags)
    deadline = time.monotonic() + RUN_TIMEOUT
    while not (world.state.mutation_log and any(w.talking_to(world.port) for w in world.workers.values())):
        assert drain.poll() is None and time.monotonic() < deadline, "the drain never reached the simulator"
        time.sleep(0.2)
    killed = next(name for name, w in world.workers.items() if w.talking_to(world.port))
    if kill == "worker":
        world.workers[killed].kill()  # the worker and its pool process, SIGKILL, mid-request
    else:
        world.workers[killed].talking_to(world.port).kill()  # SIGKILL
    survivor = next(name for name in world.workers if name != killed)

    run = _finish(world, drain, "outbound_job")
    # The step's message was not acknowledged: RabbitMQ handed it to the other worker, which ran the step
    # again in the same run, and the run ended in success.
    assert run.status.value == "SUCCESS", _engine_messages(world, run.run_id)
    assert _queue_of(world, run.run_id, "drain_letzshop_outbound") == f"{world.prefix}letzshop_api"
    ran_on = _ran_on(world, run.run_id, "drain_letzshop_outbound")
    assert len(ran_on) == 2 and ran_on[0].split("@")[0] == f"{world.prefix}{killed}", ran_on
    if kill == "worker":  # else the worker that lost a pool process may take the step again itself
        assert ran_on[1].split("@")[0] == f"{world.prefix}{survivor}", ran_on
    # The write whose answer was lost stays in flight under the dead attempt's lease; every other went out.
    assert _outbound(world) == Counter({"succeeded": queued - 1, "in_flight": 1}), _outbound(world)
    assert len(_confirmations(world)) == queued and set(_confirmations(world).values()) == {1}

    # The lease runs out (4 x the request timeout; moved forward here rather than waited for): the next
    # drain finds the attempt's outcome unknown, re-reads the shipment, sees it confirmed, sends nothing.
    with world.warehouse.begin() as conn:
        conn.execute(text("UPDATE ops.outbound_queue SET lease_expires_at = now() - interval '1 second' "
                          "WHERE account_id = :a AND status = 'in_flight'"), {"a": world.account.account_id})
    again = _run(world, "outbound_job", drain_tags)
    assert again.status.value == "SUCCESS", _engine_messages(world, again.run_id)
    assert _ran_on(world, again.run_id, "drain_letzshop_outbound")
    assert _outbound(world) == Counter({"succeeded": queued}), _outbound(world)
    confirmations = _confirmations(world)
    assert len(confirmations) == queued and set(confirmations.values()) == {1}, confirmations
