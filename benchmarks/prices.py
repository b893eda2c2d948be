"""Prices out: 1,000,000 listings (a catalog price each, half with a store price of their own) on Amazon,
a price rule (12 % markup, .99, floor 4.99, ceiling 250), then rounds of "1% of prices changed" (10,000
store prices), each followed by an incremental price push timed end to end: every listing's target
computed in one snapshot, the ~10,000 changed ones written to the ledger, delivered to the Amazon
simulator as JSON_LISTINGS_FEED feeds (validated and processed message by message), the per-SKU answers
recorded. The first full push (1,000,000 ledger rows) goes to an in-process adapter that accepts every
price, so the channel starts from acknowledged prices without a million-message feed. Then a push with
nothing changed, and one Letzshop price file push of every listing (the product file, which replaces
the last one and so carries all of them) to a folder. Size from BENCH_PRICES_LISTINGS (default 1,000,000).
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from benchmarks.common import bench_database, peak_rss_mb, run_seed_script

LISTINGS = int(os.environ.get("BENCH_PRICES_LISTINGS", "1000000"))
CHANGED = LISTINGS // 100
ROUNDS = 3
CLIENT_ID, CLIENT_SECRET = "amzn1.application-oa2-client.bench", "amzn1.oa2-cs.v1.bench"
SCALE = 1_000_000.0  # the simulator's documented rates scaled up: throttling applies, refills are instant


def _accept_everything(conn, settings, vault, clients):
    from marketsync.assets.prices.channels import PriceAnswer, PriceChannel, PriceOutcome

    class AcceptAll(PriceChannel):
        def push(self, updates, *, idempotency_key, sync_id=0):
            return PriceOutcome([PriceAnswer(u.sku, "accepted") for u in updates], delivered_to="in process")

    return AcceptAll()


def _change_one_percent(warehouse, store_id: int, round_no: int) -> None:
    from sqlalchemy import text

    with warehouse.begin() as conn:
        conn.execute(text("""UPDATE core.products SET price = coalesce(price, 20) + 1.11 * :r, currency = 'EUR'
                             WHERE store_id = :s AND product_id IN (
                                 SELECT (SELECT min(product_id) FROM core.products WHERE store_id = :s)
                                        + (hashtext(:r || '-' || n) & 2147483647) % :listings
                                 FROM generate_series(1, :k) n)"""),
                     {"r": round_no, "s": store_id, "listings": LISTINGS, "k": CHANGED})


def _line(label: str, result) -> str:
    return (f"    {label}: {result.listings:,} listings computed, {result.pushed:,} pushed, "
            f"{result.acknowledged:,} acknowledged in {result.seconds:.2f} s (compute + ledger "
            f"{result.timings.get('compute')} s, deliver {result.timings.get('deliver', 0)} s, record "
            f"{result.timings.get('record', 0)} s)")


def main() -> None:
    from sqlalchemy import text

    from marketsync.assets.accounts import upsert_account
    from marketsync.assets.prices.push import push_prices
    from marketsync.assets.prices.settings import save_settings
    from marketsync.resources.amazon_sp_api import AmazonSpApiResource
    from marketsync.resources.warehouse import copy_rows
    from marketsync.sandbox.amazon import AmazonState, create_app
    from marketsync.sandbox.http import serve_in_thread

    print(f"prices out: {LISTINGS:,} listings, {CHANGED:,} prices changed per round, pushed to the Amazon simulator")
    state = AmazonState(seed=7, size=10, catalog_size=LISTINGS, rate_scale=SCALE, clients={CLIENT_ID: CLIENT_SECRET})
    amazon = AmazonSpApiResource(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rate_scale=SCALE,
                                 timeout_seconds=120, feed_poll_seconds=0.05)
    clients = {"amazon": amazon}
    with bench_database("prices") as (warehouse, vault, _), serve_in_thread(create_app(state)) as sim, \
            tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        with warehouse.begin() as conn:
            account = upsert_account(conn, "bench", "amazon", sim.base_url,
                                     {"seller_id": state.seller_id, "marketplace_ids": list(state.marketplace_ids)})
            vault.store(conn, account.account_id, {"refresh_token": state.authorize()})
            conn.execute(text("CREATE TABLE bench_price_skus (n integer, sku text)"))
            copy_rows(conn, "bench_price_skus", ("n", "sku"),
                      ((i + 1, state.catalogue.sku(i)) for i in range(LISTINGS)))
        run_seed_script(warehouse, Path(__file__).with_name("prices_seed.sql"),
                        {"store_id": account.store_id, "account_id": account.account_id, "listings": LISTINGS})
        with warehouse.begin() as conn:
            save_settings(conn, "bench", "amazon", markup_percent=Decimal(12), rounding=".99",
                          floor=Decimal("4.99"), ceiling=Decimal(250))
        with warehouse.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        print(f"    setup {time.perf_counter() - started:.1f} s")

        first = push_prices(warehouse, vault, "bench", "amazon", mode="full", triggered_by="bench",
                            adapter_factory=_accept_everything)
        print(_line("first full push (in-process adapter)", first) + f", peak RSS {peak_rss_mb():.0f} MB")
        seconds = []
        for round_no in range(1, ROUNDS + 1):
            _change_one_percent(warehouse, account.store_id, round_no)
            result = push_prices(warehouse, vault, "bench", "amazon", triggered_by="bench", clients=clients)
            assert result.status == "succeeded" and result.pushed >= CHANGED * 0.95, result
            seconds.append(result.seconds)
            print(_line(f"1% changed, incremental push {round_no} to the Amazon simulator", result))
        idle = push_prices(warehouse, vault, "bench", "amazon", triggered_by="bench", clients=clients)
        print(f"    median incremental push: {statistics.median(seconds):.2f} s; nothing changed: {idle.pushed} "
              f"pushed in {idle.seconds:.2f} s")
        with warehouse.begin() as conn:
            floor = conn.execute(text("SELECT count(*) FILTER (WHERE final_price < floor_price), count(*) "
                                      "FROM core.price_ledger")).one()
        print(f"    ledger: {floor[1]:,} rows, {floor[0]} below their floor")

        with warehouse.begin() as conn:
            upsert_account(conn, "bench", "letzshop", f"{sim.base_url}/graphql")
            save_settings(conn, "bench", "letzshop", markup_percent=Decimal(5), rounding=".95", floor=Decimal("4.95"),
                          delivery={"location": folder})
        letzshop = push_prices(warehouse, vault, "bench", "letzshop", mode="full", triggered_by="bench")
        size = sum(f.stat().st_size for f in Path(folder).iterdir())
        print(_line("Letzshop price file, every listing, to a folder", letzshop)
              + f", {size / 1e6:.0f} MB file; peak RSS {peak_rss_mb():.0f} MB")
