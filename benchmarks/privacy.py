"""Buyers' personal data at warehouse size (issue 15): an access request and an erasure of one buyer in a
warehouse of BENCH_PRIVACY_ORDERS orders (default 1,000,000, over BENCH_PRIVACY_STORES stores, default
100), each with an address, the payload as received and an outbound write (benchmarks/privacy_seed.sql);
then a retention run over all of them, every order past its store's retention period.

Figures: the export and the erasure of one buyer (median and slowest of BENCH_PRIVACY_BUYERS buyers,
default 7, each a different buyer with 2 to 3 orders), the retention run's orders per second and its
rows cleaned per table. Target: an erasure well under 1 s; the benchmark exits non-zero above it.
"""
from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from benchmarks.common import bench_database, peak_rss_mb, run_seed_script

ORDERS = int(os.environ.get("BENCH_PRIVACY_ORDERS", "1000000"))
STORES = int(os.environ.get("BENCH_PRIVACY_STORES", "100"))
BUYERS = int(os.environ.get("BENCH_PRIVACY_BUYERS", "7"))
TARGET_SECONDS = 1.0


def seed(warehouse) -> dict[str, int]:
    from sqlalchemy import text

    run_seed_script(warehouse, Path(__file__).with_name("privacy_seed.sql"),
                    {"stores": STORES, "orders": ORDERS, "age": "25 months"})
    with warehouse.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        return {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608 - our names
                for table in ("core.orders", "core.order_addresses", "raw.letzshop_shipments", "raw.channel_orders",
                              "ops.outbound_queue", "ops.sync_log")}


def _buyers(warehouse) -> list[tuple[str, str]]:
    from sqlalchemy import text

    with warehouse.begin() as conn:
        return [tuple(r) for r in conn.execute(text(
            """SELECT s.code, o.customer_email FROM core.orders o JOIN ops.stores s USING (store_id)
               WHERE o.order_id IN (SELECT 1 + (n * 7919) % :orders FROM generate_series(1, :buyers) n)"""),
            {"orders": ORDERS, "buyers": BUYERS})]


def _timed(calls) -> tuple[float, float, list]:
    seconds, results = [], []
    for call in calls:
        started = time.perf_counter()
        results.append(call())
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), max(seconds), results


def run() -> bool:
    from marketsync.assets.privacy.erasure import erase_buyer
    from marketsync.assets.privacy.export import export_buyer
    from marketsync.assets.privacy.retention import apply_retention

    with bench_database("privacy") as (warehouse, _vault, _url):
        started = time.perf_counter()
        counts = seed(warehouse)
        print(f"  seeded in {time.perf_counter() - started:.0f} s: "
              + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
        buyers = _buyers(warehouse)

        def export(store, email):
            with warehouse.begin() as conn:
                return export_buyer(conn, store, email, "bench")

        def erase(store, email):
            with warehouse.begin() as conn:
                return erase_buyer(conn, store, email, "bench")

        median, slowest, documents = _timed([lambda s=s, e=e: export(s, e) for s, e in buyers])
        entries = statistics.median(sum(c["entries"] for c in d["contents"]) for d in documents)
        print(f"  export of one buyer          median {median * 1000:6.0f} ms   slowest {slowest * 1000:6.0f} ms"
              f"   ({entries:.0f} entries each, median)")
        median, slowest, erasures = _timed([lambda s=s, e=e: erase(s, e) for s, e in buyers])
        rows = statistics.median(sum(e.rows_changed.values()) for e in erasures)
        orders = statistics.median(len(e.orders) for e in erasures)
        print(f"  erasure of one buyer         median {median * 1000:6.0f} ms   slowest {slowest * 1000:6.0f} ms"
              f"   ({orders:.0f} orders, {rows:.0f} rows cleaned each, median)")
        erasure_ok = median < TARGET_SECONDS

        started = time.perf_counter()
        runs = apply_retention(warehouse, requested_by="bench")
        elapsed = time.perf_counter() - started
        expired = sum(r.orders for r in runs)
        cleaned: dict[str, int] = {}
        for r in runs:
            for table, n in r.rows_changed.items():
                cleaned[table] = cleaned.get(table, 0) + n
        print(f"  retention over {expired:,} expired orders: {elapsed:.0f} s, {expired / elapsed:,.0f} orders/s; "
              f"rows cleaned: " + ", ".join(f"{t} {n:,}" for t, n in sorted(cleaned.items()) if n))
        print(f"  peak memory of this process: {peak_rss_mb():.0f} MB")
    return erasure_ok


def main() -> None:
    print(f"privacy: export, erasure and retention in a warehouse of {ORDERS:,} orders over {STORES} stores")
    if not run():
        raise SystemExit(f"privacy: an erasure over the {TARGET_SECONDS:g} s target: see above")
    print(f"privacy: an erasure under {TARGET_SECONDS:g} s")


if __name__ == "__main__":
    main()
