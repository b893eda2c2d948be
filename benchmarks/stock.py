"""Stock out: 1,000,000 store SKUs (a supplier feed quantity each, 100,000 of them also in two FFN
warehouses, 5,000 open orders), pushed to the Letzshop simulator's inventory file intake over HTTP.

Figures: the first full push of every listing, then three rounds of "1% of stock changed" (6,000 feed
quantities, 2,000 FFN stock rows and 2,000 newly ordered units), each followed by an incremental push
timed end to end (availability of all 1,000,000 listings computed in one snapshot, the ~10,000
changed ones written to the ledger, delivered as one file, the per-row answers recorded); the target
is under 10 s. Then a push with nothing changed. Size from BENCH_STOCK_SKUS (default 1,000,000).
"""
from __future__ import annotations

import os
import statistics
import time

from benchmarks.common import bench_database, peak_rss_mb

SKUS = int(os.environ.get("BENCH_STOCK_SKUS", "1000000"))
FFN_SKUS = SKUS // 10
ROUNDS = 3
CHANGED = SKUS // 100
API_KEY = "bench-key"

_SETUP = """
INSERT INTO ops.catalog_sources (store_id, name, kind, format) VALUES (:store_id, 'supplier', 'pull_feed', 'csv');
INSERT INTO ops.import_runs (source_id, status, started_at, finished_at)
SELECT source_id, 'completed', now() - interval '1 hour', now() FROM ops.catalog_sources WHERE name = 'supplier';
INSERT INTO core.marketplace_products (source_id, external_id, sku, quantity, content_sha)
SELECT s.source_id, 'E' || n, 'SKU-' || lpad(n::text, 7, '0'), (n::bigint * 7919) % 50, md5(n::text)
FROM ops.catalog_sources s, generate_series(1, :skus) n WHERE s.name = 'supplier';
INSERT INTO core.products (store_id, sku, marketplace_product_id)
SELECT :store_id, m.sku, m.marketplace_product_id FROM core.marketplace_products m ORDER BY m.marketplace_product_id;
INSERT INTO core.fulfillment_products (account_id, jfsku, merchant_sku)
SELECT :ffn_id, 'J' || lpad(n::text, 10, '0'), 'SKU-' || lpad(n::text, 7, '0') FROM generate_series(1, :ffn_skus) n;
INSERT INTO core.fulfillment_stock (account_id, jfsku, warehouse_id, stock_level, reserved, blocked)
SELECT :ffn_id, jfsku, w, (hashtext(jfsku || w) & 31), 0, 0
FROM core.fulfillment_products, unnest(ARRAY['W1', 'W2']) w WHERE account_id = :ffn_id;
UPDATE ops.accounts SET stock_counted_at = now() - interval '30 minutes' WHERE account_id = :ffn_id;
"""

_ORDERS = """
WITH new_orders AS (
    INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id, order_number,
                             channel_state, source_payload_sha)
    SELECT :store_id, :account_id, 'letzshop', :prefix || n, :prefix || n, :prefix || n, 'unconfirmed', 'sha'
    FROM generate_series(1, :orders) n
    RETURNING order_id)
INSERT INTO core.order_items (order_id, channel_item_id, channel_state, product_id, match_status)
SELECT o.order_id, u::text, 'unconfirmed', p.product_id, 'matched'
FROM new_orders o
CROSS JOIN generate_series(1, 2) u
JOIN core.products p ON p.product_id = 1 + (hashtext(o.order_id::text || :prefix || u) & 2147483647) % :skus
"""


def _change_one_percent(warehouse, account, ffn_id: int, round_no: int) -> None:
    from sqlalchemy import text

    feed, ffn, ordered = CHANGED * 6 // 10, CHANGED * 2 // 10, CHANGED * 2 // 10
    with warehouse.begin() as conn:
        conn.execute(text("""UPDATE core.marketplace_products SET quantity = quantity + 3
                             WHERE marketplace_product_id IN (
                                 SELECT 1 + (hashtext(:r || '-' || n) & 2147483647) % :skus
                                 FROM generate_series(1, :k) n)"""), {"r": round_no, "skus": SKUS, "k": feed})
        conn.execute(text("""UPDATE core.fulfillment_stock SET stock_level = stock_level + 5
                             WHERE account_id = :a AND warehouse_id = 'W1' AND jfsku IN (
                                 SELECT 'J' || lpad((1 + (hashtext(:r || '+' || n) & 2147483647) % :f)::text, 10, '0')
                                 FROM generate_series(1, :k) n)"""),
                     {"a": ffn_id, "r": round_no, "f": FFN_SKUS, "k": ffn})
        conn.execute(text(_ORDERS), {"store_id": account.store_id, "account_id": account.account_id,
                                     "prefix": f"B{round_no}-", "orders": ordered // 2, "skus": SKUS})


def main() -> None:
    from sqlalchemy import text

    from marketsync.assets.accounts import upsert_account
    from marketsync.assets.stock.push import push_stock
    from marketsync.assets.stock.settings import save_settings
    from marketsync.sandbox.http import serve_in_thread
    from marketsync.sandbox.letzshop.app import create_app
    from marketsync.sandbox.letzshop.state import LetzshopState

    print(f"stock out: {SKUS:,} store SKUs, {CHANGED:,} changed per round, pushed to the Letzshop simulator")
    state = LetzshopState(seed=3, size=10, api_keys=(API_KEY,))
    with bench_database("stock") as (warehouse, vault, _), serve_in_thread(create_app(state)) as sim:
        started = time.perf_counter()
        with warehouse.begin() as conn:
            account = upsert_account(conn, "bench", "letzshop", f"{sim.base_url}/graphql")
            vault.store(conn, account.account_id, {"api_key": API_KEY})
            ffn_id = upsert_account(conn, "bench", "jtl_ffn", "http://ffn.invalid").account_id
            for statement in _SETUP.split(";\n"):
                if statement.strip():
                    conn.execute(text(statement), {"store_id": account.store_id, "skus": SKUS,
                                                   "ffn_id": ffn_id, "ffn_skus": FFN_SKUS})
            conn.execute(text(_ORDERS), {"store_id": account.store_id, "account_id": account.account_id,
                                         "prefix": "B0-", "orders": 5000, "skus": SKUS})
            save_settings(conn, "bench", "letzshop", safety_stock=1,
                          delivery={"location": f"{sim.base_url}/inventory/"})
        with warehouse.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        print(f"    setup {time.perf_counter() - started:.1f} s")

        first = push_stock(warehouse, vault, "bench", "letzshop", mode="full", triggered_by="bench")
        print(f"    first full push: {first.pushed:,} listings in {first.seconds:.1f} s "
              f"({first.timings}), {first.acknowledged:,} acknowledged, peak RSS {peak_rss_mb():.0f} MB")
        seconds = []
        for round_no in range(1, ROUNDS + 1):
            _change_one_percent(warehouse, account, ffn_id, round_no)
            result = push_stock(warehouse, vault, "bench", "letzshop", triggered_by="bench")
            seconds.append(result.seconds)
            assert result.status == "succeeded", result
            print(f"    1% changed, incremental push {round_no}: {result.listings:,} listings computed, "
                  f"{result.pushed:,} pushed and {result.acknowledged:,} acknowledged in {result.seconds:.2f} s "
                  f"(compute {result.timings.get('compute')} s, deliver {result.timings.get('deliver')} s, "
                  f"record {result.timings.get('record')} s)")
        idle = push_stock(warehouse, vault, "bench", "letzshop", triggered_by="bench")
        print(f"    median incremental push: {statistics.median(seconds):.2f} s (target < 10 s); "
              f"nothing changed: {idle.pushed} pushed in {idle.seconds:.2f} s; peak RSS {peak_rss_mb():.0f} MB")
