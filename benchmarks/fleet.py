"""A fleet's whole cycle under the real `dagster-daemon`: N stores, each with a Letzshop, an Amazon and an
eBay account on the simulators (a few orders each), all due at once. Measured from the daemon's start to
every account imported and every order followed up: the cycle, the machine's CPU-seconds per store-sync
(one account's import and follow-up; everything but the simulators: the daemon, the code server, the
runs and Postgres), the peak of Postgres connections to the benchmark's database, the sensor ticks'
durations and the code server's peak memory.

It runs the project's own dagster.yaml (run queue, tag limits, pools) and the auto-sync sensor's fleet
batches (sensors/fleet.py). Sizes: BENCH_FLEET_STORES (default "100,300,1000"); BENCH_FLEET_TIMEOUT
(seconds per size before giving up, default 1800); BENCH_FLEET_CELERY_WORKERS (e.g. "1,2": the same
deployment on the celery profile with that many `marketsync workers start` processes, at
BENCH_FLEET_CELERY_STORES stores, default 300; RabbitMQ and Redis on this machine).
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from benchmarks.common import bench_database
from benchmarks.sensors import _dagster_home, _ticks

SIZES = [int(n) for n in os.environ.get("BENCH_FLEET_STORES", "100,300,1000").split(",") if n.strip()]
# The celery profile's runs (MARKETSYNC_EXECUTOR=celery, RabbitMQ and Redis on this machine): each size again
# with this many `marketsync workers start` processes; empty: the default launcher only.
CELERY_WORKERS = [int(n) for n in os.environ.get("BENCH_FLEET_CELERY_WORKERS", "").split(",") if n.strip()]
CELERY_STORES = int(os.environ.get("BENCH_FLEET_CELERY_STORES", "300"))
TIMEOUT = float(os.environ.get("BENCH_FLEET_TIMEOUT", "1800"))
CHANNELS = ("letzshop", "amazon", "ebay")


def _simulators(stack: ExitStack) -> dict:
    """The three channels' simulators on loopback, each with a few orders: (state, base URL) per channel."""
    from marketsync.pipelines.demo_world import CHANNEL_CLIENT
    from marketsync.sandbox.amazon import create_app as create_amazon_app
    from marketsync.sandbox.amazon.state import AmazonState
    from marketsync.sandbox.ebay.app import create_app as create_ebay_app
    from marketsync.sandbox.ebay.state import EbayState
    from marketsync.sandbox.http import serve_in_thread
    from marketsync.sandbox.letzshop.app import create_app as create_letzshop_app
    from marketsync.sandbox.letzshop.state import LetzshopState

    states = {"letzshop": LetzshopState(seed=5, size=3, api_keys=()),
              "amazon": AmazonState(seed=5, size=3, catalog_size=10, rate_scale=1000.0, clients=dict([CHANNEL_CLIENT])),
              "ebay": EbayState(seed=5, orders=3, skus=10, clients=dict([CHANNEL_CLIENT]))}
    apps = {"letzshop": create_letzshop_app, "amazon": create_amazon_app, "ebay": create_ebay_app}
    urls = {}
    for channel, state in states.items():
        server = stack.enter_context(serve_in_thread(apps[channel](state)))
        urls[channel] = f"{server.base_url}/graphql" if channel == "letzshop" else server.base_url
    return {channel: (states[channel], urls[channel]) for channel in CHANNELS}


def seed(warehouse, vault, stores: int, sims: dict) -> None:
    """`stores` stores with an account per channel, each with credentials of its own on the simulators."""
    from sqlalchemy import text

    from marketsync.pipelines.demo_world import CHANNEL_CLIENT

    amazon = sims["amazon"][0]
    with warehouse.begin() as conn:
        conn.execute(text(Path(__file__).with_name("fleet_seed.sql").read_text()), {
            "stores": stores, "letzshop": sims["letzshop"][1], "amazon": sims["amazon"][1],
            "ebay": sims["ebay"][1], "marketplaces": json.dumps(list(amazon.marketplace_ids))})
        accounts = conn.execute(text("SELECT a.account_id, a.channel, s.code FROM ops.accounts a "
                                     "JOIN ops.stores s USING (store_id)")).all()
        for account_id, channel, store in accounts:
            if channel == "letzshop":
                key = f"bench-{store}"
                sims["letzshop"][0].add_key(key)
                secret = {"api_key": key}
            elif channel == "amazon":
                secret = {"refresh_token": amazon.authorize(f"S{store}", CHANNEL_CLIENT[0])}
            else:
                secret = {"refresh_token": sims["ebay"][0].grant()["refresh_token"]}
            vault.store(conn, account_id, secret)


def _progress(warehouse) -> tuple[int, int, int]:
    """(accounts never synced, orders not followed up, connections to the benchmark's database)."""
    from sqlalchemy import text

    with warehouse.begin() as conn:
        return conn.execute(text(
            "SELECT (SELECT count(*) FROM ops.accounts WHERE last_synced_at IS NULL), "
            "(SELECT count(*) FROM core.orders WHERE followed_up_at IS NULL), "
            "(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database())")).one()


def _busy_cpu_seconds() -> float:
    """The machine's CPU-seconds spent not idle since boot (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _runs(database_url: str) -> dict[str, int]:
    import psycopg

    from marketsync.resources.database import libpq_url

    with psycopg.connect(libpq_url(database_url)) as conn:
        return {f"{job}:{status}": n for job, status, n in conn.execute(
            "SELECT pipeline_name, status, count(*) FROM runs GROUP BY 1, 2")}


def _rss_mb(daemon) -> tuple[float, float]:
    """(the code server's, the largest run process's) resident memory now, among the daemon's descendants."""
    import psutil

    try:
        children = psutil.Process(daemon.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return 0.0, 0.0
    code_server, run = 0.0, 0.0
    for child in children:
        try:
            rss, command = child.memory_info().rss / 2**20, " ".join(child.cmdline())
        except psutil.NoSuchProcess:
            continue
        if "api grpc" in command:
            code_server = max(code_server, rss)
        elif "multiprocessing" in command and "resource_tracker" not in command:
            run = max(run, rss)
    return code_server, run


def _active_runs(database_url: str) -> int:
    import psycopg

    from marketsync.resources.database import libpq_url

    with psycopg.connect(libpq_url(database_url)) as conn:
        return conn.execute("SELECT count(*) FROM runs WHERE status IN "
                            "('QUEUED', 'NOT_STARTED', 'STARTING', 'STARTED', 'CANCELING')").fetchone()[0]


def _failed_syncs(warehouse) -> list[str]:
    """The worded reasons of the store-syncs that failed (a few), for the report."""
    from sqlalchemy import text

    with warehouse.begin() as conn:
        return [str(e)[:200] for e in conn.execute(text(
            "SELECT errors FROM ops.sync_log WHERE failed ORDER BY sync_id LIMIT 5")).scalars()]


def _start_workers(stack: ExitStack, count: int, env: dict, home: Path) -> None:
    """`count` Celery workers (every queue, their default concurrency), stopped when the size ends."""
    from marketsync.resources.database import REPO_ROOT

    for n in range(count):
        log = stack.enter_context((home / f"worker{n}.log").open("w+"))
        worker = subprocess.Popen([str(Path(sys.executable).with_name("marketsync")), "workers", "start",
                                   "--name", f"bench{n}@%h", "--loglevel", "WARNING"],
                                  cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        stack.callback(_stop_group, worker)


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the process's group (it started a session of its own), SIGKILL after 30 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run_size(stores: int, celery_workers: int = 0) -> dict:
    from dagster import DagsterInstance

    from marketsync.pipelines.demo_world import CHANNEL_CLIENT
    from marketsync.resources.database import REPO_ROOT
    from marketsync.sensors.jobs import ORDER_CHANNELS

    with ExitStack() as stack:
        warehouse, vault, database_url = stack.enter_context(bench_database(f"fleet{stores}"))
        home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="marketsync-bench-fleet-")))
        sims = _simulators(stack)
        seed(warehouse, vault, stores, sims)
        env = _dagster_home(database_url, home)
        # The project's own run queue (the sensors benchmark's home launches nothing).
        (home / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text())
        env.update({"AMAZON_LWA_CLIENT_ID": CHANNEL_CLIENT[0], "AMAZON_LWA_CLIENT_SECRET": CHANNEL_CLIENT[1],
                    "EBAY_CLIENT_ID": CHANNEL_CLIENT[0], "EBAY_CLIENT_SECRET": CHANNEL_CLIENT[1]})
        if celery_workers:  # the same deployment on the celery profile, with queues of its own on the broker
            env.update({"MARKETSYNC_EXECUTOR": "celery", "MARKETSYNC_CELERY_QUEUE_PREFIX": f"bench{os.getpid()}-"})
        os.environ.update({k: env[k] for k in ("MARKETSYNC_DAGSTER_DATABASE_URL", "MARKETSYNC_DAGSTER_ARTIFACTS",
                                               "MARKETSYNC_DAGSTER_COMPUTE_LOGS")})
        with DagsterInstance.from_config(str(home)) as instance:  # the partitions a running fleet has
            for channel in CHANNELS:
                instance.add_dynamic_partitions(ORDER_CHANNELS[channel].partitions.name,
                                                [f"fleet{n:05d}" for n in range(1, stores + 1)])
        # The daemon's (and its runs') output goes to a file: a pipe nobody reads fills up and blocks them.
        log = stack.enter_context((home / "daemon.log").open("w+"))
        busy, own, started = _busy_cpu_seconds(), _own_cpu_seconds(), time.monotonic()
        _start_workers(stack, celery_workers, env, home)
        daemon = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", str(REPO_ROOT / "workspace.yaml")],
            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        peak_rss, peak_run_rss, peak_connections, cycle, left = 0.0, 0.0, 0, None, (stores * 3, -1)
        try:
            while time.monotonic() - started < TIMEOUT and daemon.poll() is None:
                unsynced, waiting, connections = _progress(warehouse)
                peak_connections = max(peak_connections, connections - 1)  # not this probe's own
                code_server_rss, run_rss = _rss_mb(daemon)
                peak_rss, peak_run_rss = max(peak_rss, code_server_rss), max(peak_run_rss, run_rss)
                left = (unsynced, waiting)
                if unsynced == 0 and waiting == 0:
                    cycle = time.monotonic() - started
                    break
                time.sleep(2)
            cpu = (_busy_cpu_seconds() - busy) - (_own_cpu_seconds() - own)
            # The data is complete; the last runs still record their end. Stopping the daemon before
            # they do would count them as failed.
            wait_until = time.monotonic() + 120
            while cycle is not None and _active_runs(database_url) and time.monotonic() < wait_until:
                time.sleep(1)
        finally:
            _stop_group(daemon)
            log.seek(0)
            errors = log.read()
        ticks, runs, failed_syncs = _ticks(database_url), _runs(database_url), _failed_syncs(warehouse)
    if cycle is None:
        raise RuntimeError(f"{stores} stores: not done in {TIMEOUT:.0f} s ({left[0]} accounts never synced, "
                           f"{left[1]} orders waiting; runs {runs}): {errors[-1500:]}")
    slowest = {}
    for tick in ticks:
        name = tick.get("instigator_name") or tick.get("job_name") or "?"
        if tick.get("end_timestamp") and tick.get("timestamp"):
            slowest[name] = max(slowest.get(name, 0.0), tick["end_timestamp"] - tick["timestamp"])
    return {"stores": stores, "workers": celery_workers, "cycle_s": cycle, "cpu_s": cpu,
            "cpu_per_sync_s": cpu / (stores * len(CHANNELS)),
            "peak_connections": peak_connections, "code_server_peak_rss_mb": peak_rss,
            "run_peak_rss_mb": peak_run_rss, "runs": runs,
            "slowest_tick_s": slowest, "failed_syncs": failed_syncs}


def _report(result: dict) -> None:
    runs = sum(result["runs"].values())
    failed = sum(n for key, n in result["runs"].items() if key.endswith(":FAILURE"))
    how = f"celery, {result['workers']} worker(s)" if result["workers"] else "default launcher"
    print(f"  {result['stores']:>5,} stores ({how}): cycle {result['cycle_s']:7.1f} s; {result['cpu_s']:7.1f} CPU-s "
          f"({result['cpu_per_sync_s']:.3f} s per store-sync); {runs} runs ({failed} failed); "
          f"peak {result['peak_connections']} Postgres connections; code server peak RSS "
          f"{result['code_server_peak_rss_mb']:,.0f} MB, of a run process {result['run_peak_rss_mb']:,.0f} MB")
    slowest = sorted(result["slowest_tick_s"].items(), key=lambda item: -item[1])[:4]
    print("        slowest sensor ticks: " + ", ".join(f"{name} {s:.2f} s" for name, s in slowest))
    print(f"        runs: {json.dumps(result['runs'], sort_keys=True)}")
    for reason in result["failed_syncs"]:
        print(f"        a failed store-sync: {reason}")


def main() -> None:
    print(f"fleet: {', '.join(f'{n:,}' for n in SIZES)} stores x {len(CHANNELS)} channels on the simulators, all "
          f"due at once; the real dagster-daemon with the project's dagster.yaml (default run launcher"
          + (f"; then {CELERY_STORES:,} stores on the celery profile with {CELERY_WORKERS} workers)"
             if CELERY_WORKERS else ")"))
    largest = None
    for stores in SIZES:
        largest = run_size(stores)
        _report(largest)
    for workers in CELERY_WORKERS:
        _report(run_size(CELERY_STORES, workers))
    if largest:
        print(f"fleet: {largest['stores']} stores, cycle {largest['cycle_s']:.0f} s, "
              f"{largest['cpu_per_sync_s']:.3f} s CPU per store-sync, {largest['peak_connections']} peak connections")
