"""The analysts' views at warehouse size (issue 21): BENCH_ANALYTICS_ORDERS orders (default 1,000,000) with
about ten items each (10,000,000) over BENCH_ANALYTICS_STORES stores (default 4) with a Letzshop, an Amazon
and an eBay account each and BENCH_ANALYTICS_DAYS days (default 365), with their status history,
exceptions, stock, catalog import runs and sync log (benchmarks/analytics_seed.sql), analysed.

Figures: for each view of sql/analytics_question_views.sql a typical analyst's query (one store, one
channel, the last 30 days where the view has days), run 3 times as the analyst role: the median and the
top node of its EXPLAIN ANALYZE plan, and how much of it was JIT compilation (Postgres's default settings,
as an analyst's session has them; BENCH_ANALYTICS_PLANS=1 prints the whole plans). Target: each under
2 s; the benchmark exits non-zero above it.
"""
from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from benchmarks.common import bench_database, peak_rss_mb, run_seed_script

ORDERS = int(os.environ.get("BENCH_ANALYTICS_ORDERS", "1000000"))
STORES = int(os.environ.get("BENCH_ANALYTICS_STORES", "4"))
DAYS = int(os.environ.get("BENCH_ANALYTICS_DAYS", "365"))
PRODUCTS = int(os.environ.get("BENCH_ANALYTICS_PRODUCTS", "5000"))
SHOW_PLANS = os.environ.get("BENCH_ANALYTICS_PLANS") == "1"
RUNS = 3
TARGET_SECONDS = 2.0

# (view, the analyst's question): each one line of SQL, run as the analyst role.
QUERIES = [
    ("sales_daily", "SELECT * FROM analytics.sales_daily WHERE store = 'bench01' AND channel = 'amazon' "
                    "AND day >= current_date - 30 ORDER BY day"),
    ("fulfilment_lead_times", "SELECT * FROM analytics.fulfilment_lead_times WHERE store = 'bench01' "
                              "AND channel = 'amazon' AND month >= date_trunc('month', current_date - 60)::date"),
    ("order_lead_times", "SELECT channel, percentile_cont(0.9) WITHIN GROUP (ORDER BY ordered_to_shipped_hours) "
                         "FROM analytics.order_lead_times WHERE store = 'bench01' AND day >= current_date - 30 "
                         "GROUP BY channel"),
    ("exception_backlog", "SELECT * FROM analytics.exception_backlog WHERE store = 'bench01'"),
    ("stock_cover", "SELECT * FROM analytics.stock_cover WHERE store = 'bench01' AND channel = 'amazon' "
                    "ORDER BY days_of_cover NULLS FIRST LIMIT 100"),
    ("feed_import_health", "SELECT * FROM analytics.feed_import_health WHERE store = 'bench01'"),
    ("sync_freshness", "SELECT * FROM analytics.sync_freshness WHERE store = 'bench01'"),
    # Repeat buyers of one store over the year, by the pseudonymous buyer key (no personal data).
    ("repeat_buyers", "SELECT count(*) AS buyers, count(*) FILTER (WHERE orders > 1) AS repeat_buyers "
                      "FROM (SELECT buyer_key, count(*) AS orders FROM core.orders o JOIN core.visible_stores s "
                      "USING (store_id) WHERE s.code = 'bench01' AND buyer_key IS NOT NULL GROUP BY buyer_key) b"),
]


def seed(warehouse) -> dict[str, int]:
    from sqlalchemy import text

    run_seed_script(warehouse, Path(__file__).with_name("analytics_seed.sql"),
                    {"stores": STORES, "orders": ORDERS, "days": DAYS, "products": PRODUCTS})
    with warehouse.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        return {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608 - our names
                for table in ("core.orders", "core.order_items", "core.order_status_history",
                              "ops.order_exceptions", "core.channel_stock", "core.stock_ledger", "ops.import_runs",
                              "ops.sync_log")}


def _top_node(plan_lines: list[str]) -> str:
    """The plan's first line without its cost estimate: node, actual time, rows."""
    first = plan_lines[0]
    node, _, rest = first.partition("  (cost=")
    actual = rest[rest.find("(actual"):] if "(actual" in rest else ""
    return f"{node.strip()} {actual}".strip()


def _jit_ms(plan_lines: list[str]) -> float:
    """Milliseconds the plan spent compiling with JIT (0 without): part of the median."""
    for line in plan_lines:
        if "Timing:" in line and "Total" in line:
            return float(line.rsplit("Total", 1)[1].split()[0])
    return 0.0


def measure(warehouse, sql: str) -> tuple[float, int, list[str]]:
    from sqlalchemy import text

    seconds, rows = [], 0
    with warehouse.engine.connect() as conn:
        conn.execute(text("SET ROLE analyst"))
        for _ in range(RUNS):
            started = time.perf_counter()
            rows = len(conn.execute(text(sql)).all())
            seconds.append(time.perf_counter() - started)
        plan = list(conn.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")).scalars())
        conn.execute(text("RESET ROLE"))
        conn.rollback()
    return statistics.median(seconds), rows, plan


def run() -> bool:
    with bench_database("analytics") as (warehouse, _vault, _url):
        started = time.perf_counter()
        counts = seed(warehouse)
        print(f"  seeded in {time.perf_counter() - started:.0f} s: "
              + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
        print(f"  {'view':<24}{'median ms':>10}{'of it JIT':>10}{'rows':>7}  plan's top node")
        slow = []
        for view, sql in QUERIES:
            median, rows, plan = measure(warehouse, sql)
            print(f"  {view:<24}{median * 1000:>10.0f}{_jit_ms(plan):>10.0f}{rows:>7}  {_top_node(plan)}")
            if SHOW_PLANS:
                print("\n".join("      " + line for line in plan))
            if median >= TARGET_SECONDS:
                slow.append(view)
        print(f"  peak memory of this process: {peak_rss_mb():.0f} MB")
    if slow:
        print(f"  over {TARGET_SECONDS:g} s: {', '.join(slow)}")
    return not slow


def main() -> None:
    print(f"analytics: the analysts' views over {ORDERS:,} orders (about {ORDERS * 10:,} items), {STORES} stores x "
          f"3 channels, {DAYS} days")
    if not run():
        raise SystemExit(f"analytics: a view over the {TARGET_SECONDS:g} s target: see above")
    print(f"analytics: every view under {TARGET_SECONDS:g} s")


if __name__ == "__main__":
    main()
