"""Amazon and eBay: 50,000 orders of each imported from their simulators into the canonical model
(fetch, land raw, normalise, merge, match; each channel's client paging as it would against the real
API), then a 100,000-SKU stock push to Amazon through the JSON_LISTINGS_FEED path (documents, feeds of
at most 25,000 messages, processing reports parsed into per-SKU answers).

The simulators' rate limits are scaled up (BENCH_RATE_SCALE, default 20,000x the documented rates):
at Amazon's real searchOrders rate (one call per 180 s after a burst of 20) 50,000 orders would take
hours whatever the code did; the figures measure our side. Sizes: BENCH_CHANNEL_ORDERS (50,000),
BENCH_FEED_SKUS (100,000).
"""
from __future__ import annotations

import os
import time

from benchmarks.common import bench_database, peak_rss_mb

ORDERS = int(os.environ.get("BENCH_CHANNEL_ORDERS", "50000"))
FEED_SKUS = int(os.environ.get("BENCH_FEED_SKUS", "100000"))
SCALE = float(os.environ.get("BENCH_RATE_SCALE", "20000"))
CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"


def main() -> None:
    from sqlalchemy import text

    from marketsync.assets.accounts import upsert_account
    from marketsync.assets.amazon.orders import import_amazon_orders
    from marketsync.assets.ebay.orders import import_ebay_orders
    from marketsync.assets.stock.push import push_stock
    from marketsync.assets.stock.settings import save_settings
    from marketsync.resources.amazon_sp_api import AmazonSpApiResource
    from marketsync.resources.ebay import EbayResource
    from marketsync.sandbox.amazon import AmazonState
    from marketsync.sandbox.amazon import create_app as create_amazon_app
    from marketsync.sandbox.ebay.app import create_app as create_ebay_app
    from marketsync.sandbox.ebay.state import EbayState
    from marketsync.sandbox.http import serve_in_thread

    print(f"channels: {ORDERS:,} Amazon and {ORDERS:,} eBay orders imported; a {FEED_SKUS:,}-SKU stock push "
          f"to Amazon by feed (simulator rate limits x{SCALE:,.0f})")
    amazon_state = AmazonState(seed=21, size=ORDERS, catalog_size=FEED_SKUS, rate_scale=SCALE,
                               clients={CLIENT_ID: CLIENT_SECRET}, max_feed_messages=25_000)
    ebay_state = EbayState(seed=21, orders=ORDERS, skus=500, clients={CLIENT_ID: CLIENT_SECRET})
    amazon = AmazonSpApiResource(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rate_scale=SCALE,
                                 feed_poll_seconds=0.2, retry_backoff_seconds=0.05)
    ebay = EbayResource(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, retry_backoff_seconds=0.05)
    with bench_database("channels") as (warehouse, vault, _), \
            serve_in_thread(create_amazon_app(amazon_state)) as amazon_server, \
            serve_in_thread(create_ebay_app(ebay_state)) as ebay_server:
        with warehouse.begin() as conn:
            zon = upsert_account(conn, "bench", "amazon", amazon_server.base_url,
                                 {"seller_id": amazon_state.seller_id, "first_import_days": 400,
                                  "marketplace_ids": list(amazon_state.marketplace_ids)})
            vault.store(conn, zon.account_id, {"refresh_token": amazon_state.authorize()})
            bay = upsert_account(conn, "bench", "ebay", ebay_server.base_url, {"first_import_days": 400})
            vault.store(conn, bay.account_id, {"refresh_token": ebay_state.grant()["refresh_token"]})
        for label, run in (("Amazon", lambda: import_amazon_orders(warehouse, vault, amazon, "bench")),
                           ("eBay", lambda: import_ebay_orders(warehouse, vault, ebay, "bench"))):
            started = time.perf_counter()
            result = run()
            seconds = time.perf_counter() - started
            print(f"    {label} orders: {result.orders_created:,} created, {result.items_written:,} items in "
                  f"{seconds:.1f} s = {result.orders_created / seconds:,.0f} orders/s; peak RSS {peak_rss_mb():.0f} MB")
            started = time.perf_counter()
            again = run()
            print(f"    {label} re-import from the cursor: {again.orders_seen:,} seen, {again.orders_changed} "
                  f"changed in {time.perf_counter() - started:.2f} s")

        skus = [amazon_state.catalogue.sku(i) for i in range(FEED_SKUS)]
        with warehouse.begin() as conn:
            conn.execute(text("""INSERT INTO core.products (store_id, sku)
                                 SELECT :s, sku FROM unnest(CAST(:k AS text[])) sku ON CONFLICT DO NOTHING"""),
                         {"s": zon.store_id, "k": skus})
            conn.execute(text("""INSERT INTO core.stock_adjustments (store_id, product_id, kind, quantity)
                                 SELECT store_id, product_id, 'count', 5 + product_id % 40 FROM core.products
                                 WHERE store_id = :s"""), {"s": zon.store_id})
            save_settings(conn, "bench", "amazon", listings="catalog")  # every product of this store is on Amazon
        with warehouse.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        started = time.perf_counter()
        pushed = push_stock(warehouse, vault, "bench", "amazon", mode="full", clients={"amazon": amazon})
        seconds = time.perf_counter() - started
        print(f"    Amazon stock by feed: {pushed.pushed:,} listings pushed, {pushed.acknowledged:,} acknowledged, "
              f"{pushed.rejected} rejected, {pushed.unanswered} unanswered in {seconds:.1f} s "
              f"({pushed.timings}); {pushed.delivered_to}; peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
