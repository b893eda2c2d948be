"""Read-only CLI commands: how long a person waits for `marketsync orders list` and its kind, each run as
the subprocess a person starts (interpreter start, imports, connecting, the query, printing).

A fresh, migrated database on DATABASE_URL's server (the embedded one unless set) holds one store with a
Letzshop account and its credentials, so every command finds something to read. Each command runs
BENCH_CLI_RUNS times (default 7) after one warm-up; the median and the slowest are printed.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from benchmarks.common import bench_database

RUNS = int(os.environ.get("BENCH_CLI_RUNS", "7"))

# Read-only commands; none of them needs Dagster.
COMMANDS: list[tuple[str, ...]] = [
    ("--help",),
    ("orders", "list"),
    ("orders", "show", "R-BENCH-1"),
    ("exceptions", "list"),
    ("exceptions", "stats"),
    ("logs",),
    ("outbound", "list"),
    ("account", "list"),
    ("credentials", "show", "bench", "letzshop"),
    ("feeds", "list"),
    ("catalog", "runs"),
]


def _seed(warehouse, vault) -> None:
    from sqlalchemy import text

    from marketsync.assets.accounts import upsert_account

    with warehouse.begin() as conn:
        account = upsert_account(conn, "bench", "letzshop", "http://127.0.0.1:9/graphql", {})
        vault.store(conn, account.account_id, {"api_key": "bench-key"})
        conn.execute(text(
            """INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id,
                                          order_number, channel_state, source_payload_sha, ordered_at)
               VALUES (:s, :a, 'letzshop', 'bench-1', 'bench-1', 'R-BENCH-1', 'unconfirmed', 'bench', now())"""),
            {"s": account.store_id, "a": account.account_id})


def _time(args: tuple[str, ...], env: dict[str, str]) -> tuple[float, int, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c",
                           "import sys; from marketsync.pipelines.cli import main; sys.exit(main())", *args],
                          env=env, capture_output=True, text=True)
    lines = done.stderr.strip().splitlines()
    return time.perf_counter() - started, done.returncode, lines[-1] if lines else ""


def main() -> None:
    from marketsync.resources.database import dagster_storage_url

    print(f"cli: read-only commands as subprocesses, median of {RUNS} (after one warm-up)")
    with bench_database("cli") as (warehouse, vault, database_url):
        try:
            _seed(warehouse, vault)
        except Exception as exc:
            print(f"  (seeding an order failed: {type(exc).__name__}; timing on an empty store)")
        env = {**os.environ, "DATABASE_URL": database_url,
               "MARKETSYNC_DAGSTER_DATABASE_URL": dagster_storage_url(database_url)}
        medians = []
        for args in COMMANDS:
            _time(args, env)  # warm-up: the OS file cache, compiled bytecode
            samples = []
            for _ in range(RUNS):
                seconds, code, last_error = _time(args, env)
                samples.append(seconds)
            median = statistics.median(samples)
            medians.append(median)
            note = "" if code == 0 else f"  (exit {code}: {last_error[:80]})"
            print(f"  marketsync {' '.join(args):<36} median {median:6.3f} s  slowest {max(samples):6.3f} s{note}")
        print(f"  all read-only commands: median of medians {statistics.median(medians):.3f} s, "
              f"slowest median {max(medians):.3f} s")
