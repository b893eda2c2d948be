"""Operations at fleet size (issue 14): /metrics and the /status page of `marketsync serve` for 1,000 stores with
a Letzshop, an Amazon and an eBay account each, answered over HTTP on loopback in under a second each.

The fleet (benchmarks/operations_seed.sql) lives BENCH_OPS_DAYS days (default 8: the last day and a week of
history before it, which is what the queries must skip) at a realistic rate: an order import every 15 minutes
per account (1% ended on an error), a stock push every 30 minutes per account, BENCH_OPS_ORDERS orders per
store and day (default 50) with one confirmation each through the outbound queue (a few pending, 0.1%
dead-lettered), ten days of closed alerts for one account in seven; about 2% of the accounts import hours
late (each with an open alert), 4% a little late. Then one evaluation opens the threshold alerts, as the
alerting sensor does, and the tables are analysed.

Figures, each the median and the 95th percentile of BENCH_OPS_REQUESTS requests (default 15) after one
warm-up: GET /metrics (a token of every store), GET /status (every store, and one store's token),
GET /health/stores/S (its API status cached, so the figure is ours, not a channel's), each also as the SQL
alone (the domain's queries, no HTTP, no rendering), and the SQL statement by statement. The answer's
size and the number of samples or rows come along. Target: under 1 s each; the benchmark exits non-zero
when /metrics or /status misses it.
"""
from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import bench_database, peak_rss_mb, run_seed_script

STORES = int(os.environ.get("BENCH_OPS_STORES", "1000"))
DAYS = int(os.environ.get("BENCH_OPS_DAYS", "8"))
ORDERS = int(os.environ.get("BENCH_OPS_ORDERS", "50"))
REQUESTS = int(os.environ.get("BENCH_OPS_REQUESTS", "15"))
TARGET_SECONDS = 1.0


def seed(warehouse) -> dict[str, int]:
    from sqlalchemy import text

    from marketsync.assets.operations.evaluate import evaluate_thresholds

    run_seed_script(warehouse, Path(__file__).with_name("operations_seed.sql"),
                    {"stores": STORES, "days": DAYS, "orders": ORDERS})
    with warehouse.begin() as conn:
        evaluation = evaluate_thresholds(conn)
    with warehouse.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        counts = {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608 - our names
                  for table in ("ops.accounts", "ops.sync_log", "ops.inventory_syncs", "core.orders",
                                "ops.outbound_queue", "ops.alerts")}
    counts["threshold alerts opened"] = evaluation.opened
    return counts


def timed(call: Callable[[], object], times: int = REQUESTS) -> tuple[float, float, object]:
    """(median, p95) seconds of `times` calls after one warm-up, and the last result."""
    result = call()
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - started)
    seconds.sort()
    return statistics.median(seconds), seconds[min(len(seconds) - 1, round(0.95 * (len(seconds) - 1)))], result


def _line(label: str, median: float, p95: float, extra: str = "") -> str:
    return f"  {label:<44} median {median * 1000:7.0f} ms   p95 {p95 * 1000:7.0f} ms{('   ' + extra) if extra else ''}"


def _statements(warehouse, store_id: int | None, store: str | None) -> list[tuple[str, Callable]]:
    from marketsync.assets.operations import health, status

    def each(work):
        def run():
            with warehouse.engine.connect() as conn:
                return work(conn)
        return run

    return [
        ("ops.metric_readings", each(lambda c: status.metric_rows(c, store_id))),
        ("open alerts (status rows)", each(lambda c: health.open_alerts(c, store_id))),
        ("open alerts per store and severity", each(lambda c: status.open_alert_counts(c, store_id))),
        ("outbound items per status", each(lambda c: status.outbound_open_items(c, store_id))),
        ("orders per hour, 24 h", each(lambda c: status.orders_per_hour(c, store_id))),
        ("sync durations per hour, 24 h", each(lambda c: status.sync_durations(c, store_id))),
    ]


def run() -> bool:
    import httpx
    from sqlalchemy import text

    from marketsync.assets.operations import health, status
    from marketsync.pipelines.ops_app.prometheus import exposition
    from marketsync.pipelines.ops_app.server import create_app
    from marketsync.pipelines.ops_app.tokens import create_token
    from marketsync.sandbox.http import serve_in_thread

    with bench_database("operations") as (warehouse, vault, _url):
        started = time.perf_counter()
        counts = seed(warehouse)
        print(f"  seeded in {time.perf_counter() - started:.0f} s: "
              + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
        with warehouse.begin() as conn:
            everything = create_token(conn, "bench")[0]
            one = conn.execute(text("SELECT store_id, code FROM ops.stores ORDER BY code LIMIT 1 OFFSET 41")).one()
            mine = create_token(conn, "bench-one", one.code)[0]
            # The store's API statuses checked just now: /health answers from them, calling no channel.
            conn.execute(text("INSERT INTO ops.api_status (account_id, ok, detail) SELECT account_id, true, "
                              "'answered in 80 ms' FROM ops.accounts WHERE store_id = :s"), {"s": one.store_id})
        app = create_app(warehouse.engine, vault, clients=lambda channel: None)
        slow = []
        with serve_in_thread(app) as server, httpx.Client(base_url=server.base_url, timeout=60) as http:
            def get(path: str, token: str) -> httpx.Response:
                answer = http.get(path, headers={"Authorization": f"Bearer {token}"})
                answer.raise_for_status()
                return answer

            print("over HTTP (loopback):")
            for label, path, token, target in (("GET /metrics (every store)", "/metrics", everything, True),
                                               ("GET /status (every store)", "/status", everything, True),
                                               (f"GET /status (store {one.code} only)", "/status", mine, False),
                                               (f"GET /health/stores/{one.code}", f"/health/stores/{one.code}",
                                                mine, False)):
                median, p95, answer = timed(lambda p=path, t=token: get(p, t))
                body = answer.content
                extra = f"{len(body) / 1024:,.0f} KiB"
                if path == "/metrics":
                    extra += f", {sum(1 for line in body.splitlines() if line and not line.startswith(b'#')):,} samples"
                if path == "/status":
                    extra += f", {body.count(b'<tr class='):,} rows"
                print(_line(label, median, p95, extra))
                if target and median >= TARGET_SECONDS:
                    slow.append(label)

        def metrics_sql():
            return exposition(warehouse.engine, None)

        def status_sql(store_id=None):
            with warehouse.engine.connect() as conn:
                return (status.status(conn, store_id), status.orders_per_hour(conn, store_id),
                        status.sync_durations(conn, store_id))

        def health_sql():
            with warehouse.engine.connect() as conn:
                return health.operations_by_account(conn, one.store_id), health.open_alerts(conn, one.store_id)

        print("the domain alone (no HTTP):")
        median, p95, _ = timed(metrics_sql)
        print(_line("/metrics: SQL + exposition", median, p95))
        median, p95, _ = timed(status_sql)
        print(_line("/status: SQL (rows, two series)", median, p95))
        median, p95, _ = timed(lambda: status_sql(one.store_id))
        print(_line(f"/status: SQL, store {one.code} only", median, p95))
        median, p95, _ = timed(health_sql)
        print(_line(f"/health: SQL, store {one.code}", median, p95))
        print("statement by statement (every store):")
        for label, call in _statements(warehouse, None, None):
            median, p95, _ = timed(call)
            print(_line(label, median, p95))
    print(f"  peak RSS {peak_rss_mb():.0f} MB")
    return not slow


def main() -> None:
    print(f"operations: /metrics and /status for {STORES:,} stores x 3 channel accounts, {DAYS} days of history, "
          f"{ORDERS} orders per store and day")
    if not run():
        raise SystemExit(f"operations: over the {TARGET_SECONDS:g} s target: see above")
    print(f"operations: /metrics and /status under {TARGET_SECONDS:g} s")


if __name__ == "__main__":
    main()
