"""Sensors at fleet size: N stores, each with a Letzshop, an Amazon and an eBay account, all due at once
and each with a new order per channel, evaluated by the real `dagster-daemon` (Postgres storage, the
code location in its own code server, as in production).

What is measured is what Dagster limits: a sensor tick (evaluation in the code server, then the daemon
creating and submitting the runs it asked for) must end well inside the 60-second sensor timeout. The
run queue launches nothing (max_concurrent_runs 0), so the figures are the sensors' own, not the runs'.
Per size: each sensor's slowest tick and the runs it requested, and the code server's peak memory.
Sizes: BENCH_SENSOR_STORES (default "100,500,1000"); BENCH_SENSOR_SECONDS (how long the daemon runs per
size, default 150: every sensor ticks at least twice at its minimum interval).

Tick timings are read from Dagster's own tick records (the `job_ticks` table of its schedule storage:
`timestamp` and `end_timestamp` of each tick), the numbers the UI shows on a sensor's tick history.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.common import bench_database

SIZES = [int(n) for n in os.environ.get("BENCH_SENSOR_STORES", "100,500,1000").split(",") if n.strip()]
SECONDS = float(os.environ.get("BENCH_SENSOR_SECONDS", "150"))
CHANNELS = ("letzshop", "amazon", "ebay")
# The application clients the channels need to count as configured (nothing is called: the run queue
# launches no run).
CLIENT_ENV = {"EBAY_CLIENT_ID": "bench", "EBAY_CLIENT_SECRET": "bench", "AMAZON_LWA_CLIENT_ID": "bench",
              "AMAZON_LWA_CLIENT_SECRET": "bench", "JTL_FFN_CLIENT_ID": "bench", "JTL_FFN_CLIENT_SECRET": "bench"}


def seed_fleet(warehouse, vault, stores: int) -> None:
    """`stores` stores with an account per channel (never synced, so all due), credentials stored, and
    one new order per store and channel. The endpoints are loopback addresses nothing listens on."""
    from sqlalchemy import text

    with warehouse.begin() as conn:
        conn.execute(text(Path(__file__).with_name("sensors_seed.sql").read_text()),
                     {"stores": stores, "channels": list(CHANNELS)})
        accounts = conn.execute(text("SELECT account_id, channel FROM ops.accounts")).all()
        for account_id, channel in accounts:
            secret = {"api_key": "bench-key"} if channel == "letzshop" else {"refresh_token": "bench-token"}
            vault.store(conn, account_id, secret)


def _dagster_home(database_url: str, home: Path) -> dict[str, str]:
    """A DAGSTER_HOME with the project's dagster.yaml, except that the run queue launches nothing."""
    from marketsync.resources.database import REPO_ROOT, dagster_storage_url

    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    config.setdefault("concurrency", {}).setdefault("runs", {})["max_concurrent_runs"] = 0
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return {**os.environ, **CLIENT_ENV, "DAGSTER_HOME": str(home), "DATABASE_URL": database_url,
            "MARKETSYNC_DAGSTER_DATABASE_URL": dagster_storage_url(database_url),
            "MARKETSYNC_DAGSTER_ARTIFACTS": str(home / "storage"),
            "MARKETSYNC_DAGSTER_COMPUTE_LOGS": str(home / "logs")}


def _ticks(database_url: str) -> list[dict]:
    import psycopg

    from marketsync.resources.database import libpq_url

    with psycopg.connect(libpq_url(database_url)) as conn:
        bodies = [row[0] for row in conn.execute("SELECT tick_body FROM job_ticks WHERE type = 'SENSOR'")]
    return [json.loads(body) for body in bodies]


def _code_server_rss_mb(daemon) -> float:
    """The largest resident set among the daemon's child processes (the code server)."""
    import psutil

    try:
        children = psutil.Process(daemon.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return 0.0
    sizes = []
    for child in children:
        try:
            sizes.append(child.memory_info().rss / 2**20)
        except psutil.NoSuchProcess:
            pass
    return max(sizes, default=0.0)


def run_size(stores: int) -> dict:
    from marketsync.resources.database import REPO_ROOT

    with bench_database(f"sensors{stores}") as (warehouse, vault, database_url), \
            tempfile.TemporaryDirectory(prefix="marketsync-bench-dagster-") as home:
        seed_fleet(warehouse, vault, stores)
        env = _dagster_home(database_url, Path(home))
        daemon = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", str(REPO_ROOT / "workspace.yaml")],
            cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        peak_rss = 0.0
        deadline = time.monotonic() + SECONDS
        try:
            while time.monotonic() < deadline and daemon.poll() is None:
                peak_rss = max(peak_rss, _code_server_rss_mb(daemon))
                time.sleep(1)
        finally:
            os.killpg(daemon.pid, signal.SIGTERM)
            try:
                _, errors = daemon.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(daemon.pid, signal.SIGKILL)
                _, errors = daemon.communicate()
        ticks = _ticks(database_url)
    if not ticks:
        raise RuntimeError(f"the daemon recorded no sensor tick in {SECONDS:.0f} s: {errors[-2000:]}")
    per_sensor: dict[str, dict] = {}
    for tick in ticks:
        name = tick.get("instigator_name") or tick.get("job_name")
        stats = per_sensor.setdefault(name, {"ticks": 0, "slowest_s": 0.0, "runs": 0, "failed": 0, "errors": []})
        stats["ticks"] += 1
        stats["runs"] += len(tick.get("run_ids") or [])
        if tick.get("end_timestamp") and tick.get("timestamp"):
            stats["slowest_s"] = max(stats["slowest_s"], tick["end_timestamp"] - tick["timestamp"])
        if (tick.get("status") or {}).get("__enum__", "").endswith("FAILURE"):
            stats["failed"] += 1
            message = ((tick.get("error") or {}).get("message") or "no error recorded").strip().splitlines()
            stats["errors"].append(message[0][:300] if message else "no error recorded")
    return {"stores": stores, "sensors": per_sensor, "code_server_peak_rss_mb": peak_rss}


def main() -> None:
    print(f"sensors: {', '.join(f'{n:,}' for n in SIZES)} stores x {len(CHANNELS)} channels, all due, a new order "
          f"per store channel; the real dagster-daemon for {SECONDS:.0f} s per size (run queue launching nothing)")
    for stores in SIZES:
        result = run_size(stores)
        slowest = max(s["slowest_s"] for s in result["sensors"].values())
        print(f"  {stores:>5,} stores: slowest tick of any sensor {slowest:6.2f} s (Dagster's limit: 60 s); "
              f"code server peak RSS {result['code_server_peak_rss_mb']:,.0f} MB")
        for name, stats in sorted(result["sensors"].items()):
            print(f"        {name:<40} ticks {stats['ticks']:>3}  slowest {stats['slowest_s']:6.2f} s  "
                  f"runs requested {stats['runs']:>5,}  failed ticks {stats['failed']}")
            for error in stats["errors"]:
                print(f"            failed tick: {error}")
