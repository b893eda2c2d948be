"""Digital goods (issue 13): 10,000 digital order lines of confirmed Letzshop orders fulfilled through
fulfil_store (assets/digital/fulfilment.py) against the CodesWholesale simulator on loopback, with its
order faults spread over the run, by concurrent workers.

Store `bench` sells five digital products: one from its pool first (the pool holds keys for 10% of the
lines, loaded with import_keys; the rest of that product's lines are bought), four from the supplier
only. Each line is one unit, so about 90% of the lines are purchases. On POST /v3/orders, about
BENCH_DIGITAL_FAULT_PERCENT (default 2) percent of the orders each meet a lost answer (placed and
charged, the answer cut: the purchase must look the order up, never buy again), a 503 (nothing
bought: the intent is sent again) and delayed codes (the order stays Fulfilling for three reads).

Workers (threads, each with its own CodesWholesale session and database connections, all racing for
the same units and purchases) run fulfilment passes until every unit has a key. Between passes the
benchmark sets next_check_at = now() on the store's purchases: it measures our side, not the
production backoff (10 s to 30 min between a purchase's steps), which it does not sit out.

Figures: setup time, fulfilment wall time and lines/s, passes, simulator requests, purchases,
charges per client order id (must be 1), keys per order item unit (must be 1), units without a key
(must be 0), units given a pool key and a purchase both (must be 0), faults fired, peak RSS (the
simulator runs in this process: its memory counts too). Exits non-zero when an invariant fails, a pass
raises or the passes do not converge.

Sizes: BENCH_DIGITAL_LINES (10,000), BENCH_DIGITAL_WORKERS (comma-separated worker counts, one fresh
database and simulator each; default 1,2: one worker alone, then two racing), BENCH_DIGITAL_FAULT_PERCENT
(2). Every configuration runs and prints its figures before the verdict.
"""
from __future__ import annotations

import os
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from benchmarks.common import bench_database, peak_rss_mb

LINES = int(os.environ.get("BENCH_DIGITAL_LINES", "10000"))
WORKERS = [int(w) for w in os.environ.get("BENCH_DIGITAL_WORKERS", "1,2").split(",") if w.strip()]
FAULT_PERCENT = float(os.environ.get("BENCH_DIGITAL_FAULT_PERCENT", "2"))
PRODUCTS = 5  # product 0 takes the pool first, products 1..4 are bought only
POOL_KEYS = LINES // 10
DELAY_READS = 3
# Passes a worker may run: the sourcing and buying at 2,000 units a pass, the retries and the delayed codes.
MAX_PASSES = 3 * (LINES // 2000 + 1) + 4 * DELAY_READS + 20
CLIENT_ID, CLIENT_SECRET = "bench-digital", "bench-Secret=%41"
STORE = "bench"

# Confirmed Letzshop orders of two lines each (one unit per line), line n's product is n % PRODUCTS.
_ORDERS = """
WITH new_orders AS (
    INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id, order_number,
                             channel_state, sync_status, source_payload_sha)
    SELECT :store_id, :account_id, 'letzshop', 'D' || n, 'D' || n, 'D' || n, 'confirmed', 'confirmed', 'sha'
    FROM generate_series(0, :orders - 1) n
    RETURNING order_id, channel_order_id)
INSERT INTO core.order_items (order_id, channel_item_id, sku, channel_state, product_id, match_status, matched_by)
SELECT o.order_id, u::text, p.sku, 'confirmed', p.product_id, 'matched', 'sku'
FROM new_orders o
CROSS JOIN generate_series(0, 1) u
JOIN core.products p ON p.store_id = :store_id
 AND p.sku = 'DIGI-' || ((substr(o.channel_order_id, 2)::int * 2 + u) % :products)
"""


def _fault_plan(requests: int) -> list[tuple[int, str]]:
    """(POST /v3/orders request number, fault kind) spread evenly over the first `requests` orders,
    the three kinds taking turns."""
    per_kind = max(1, round(requests * FAULT_PERCENT / 100))
    kinds = ["lost_answer", "http_503", "delay_codes"] * per_kind
    spacing = requests / (len(kinds) + 1)
    return [(int(spacing * (j + 1)), kind) for j, kind in enumerate(kinds)]


def _arm(state, plan: list[tuple[int, str]]) -> None:
    """Arm each planned fault to fire once, at its request. A fault's `skip` counts down on every
    matching request that reaches it, i.e. on every request but those an earlier fault fired on: the
    j-th fault (from 0) fires at request p when it skips p - j."""
    for j, (position, kind) in enumerate(plan):
        params = {"reads": DELAY_READS} if kind == "delay_codes" else {}
        state.add_fault(kind, count=1, skip=position - j, target="place_order", **params)


def _setup(warehouse, vault, state, base_url: str) -> tuple[int, int]:
    """The store, its products, price list, orders and pool; returns (store_id, purchases expected)."""
    from sqlalchemy import text

    from marketsync.assets.accounts import upsert_account
    from marketsync.assets.codeswholesale.catalog import add_codeswholesale_source
    from marketsync.assets.digital.keys import import_keys
    from marketsync.sandbox.codeswholesale.data import single_unit_price

    chosen = [p for p in state.products if len(p.get("prices") or []) == 1 and single_unit_price(p)
              and state.code_type(p["productId"]) == "CODE_TEXT"][:PRODUCTS]
    if len(chosen) < PRODUCTS:
        raise SystemExit(f"digital: the simulator's price list has fewer than {PRODUCTS} single-price text products")
    with state.lock:  # enough stock that nothing is a pre-order (a new dict: the simulator never edits in place)
        for product in chosen:
            index = state.products.index(product)
            state.products[index] = {**product, "quantity": LINES + 100}
    orders = LINES // 2
    with warehouse.begin() as conn:
        account = upsert_account(conn, STORE, "letzshop", "http://letzshop.invalid/graphql")
        store_id = account.store_id
        source_id = add_codeswholesale_source(conn, vault, STORE, base_url, CLIENT_ID, CLIENT_SECRET)
        conn.execute(text("""INSERT INTO core.products (store_id, sku, title)
                             SELECT :s, 'DIGI-' || n, 'Game key ' || n FROM generate_series(0, :k - 1) n"""),
                     {"s": store_id, "k": PRODUCTS})
        for n, product in enumerate(chosen):
            conn.execute(text("""INSERT INTO ops.digital_products (product_id, store_id, supplier_product_id, sources)
                                 SELECT product_id, store_id, :sp, :src FROM core.products
                                 WHERE store_id = :s AND sku = :sku"""),
                         {"s": store_id, "sku": f"DIGI-{n}", "sp": product["productId"],
                          "src": "pool_then_supplier" if n == 0 else "supplier_only"})
            conn.execute(text("""INSERT INTO core.marketplace_products (source_id, external_id, price, currency,
                                                                        product_type, content_sha)
                                 VALUES (:s, :e, :p, 'EUR', 'digital', 'sha')"""),
                         {"s": source_id, "e": product["productId"], "p": Decimal(str(single_unit_price(product)))})
        conn.execute(text(_ORDERS), {"store_id": store_id, "account_id": account.account_id, "orders": orders,
                                     "products": PRODUCTS})
        with tempfile.TemporaryDirectory() as folder:
            pool = Path(folder) / "pool.csv"
            pool.write_text("sku,code\n" + "".join(f"DIGI-0,POOL-{n:07d}-BENCH\n" for n in range(POOL_KEYS)))
            imported = import_keys(conn, vault, STORE, pool)
        if imported.imported != POOL_KEYS:
            raise SystemExit(f"digital: {imported.imported} of {POOL_KEYS} pool keys imported: {imported.summary()}")
        pool_lines = conn.execute(text("""SELECT count(*) FROM ops.digital_units u JOIN core.products p
                                          USING (product_id) WHERE u.store_id = :s AND p.sku = 'DIGI-0'"""),
                                  {"s": store_id}).scalar_one()
    if pool_lines < POOL_KEYS:
        raise SystemExit(f"digital: {pool_lines} lines of the pool product, fewer than its {POOL_KEYS} pool keys")
    return store_id, orders * 2 - POOL_KEYS


def _units_without_key(conn, store_id: int) -> int:
    from sqlalchemy import text

    return conn.execute(text("SELECT count(*) FROM ops.digital_units WHERE store_id = :s AND digital_key_id IS NULL"),
                        {"s": store_id}).scalar_one()


@dataclass
class _Passes:
    """What the workers did: passes per worker, each pass's result, the first failure (or None)."""

    per_worker: Counter = field(default_factory=Counter)
    results: list = field(default_factory=list)
    failure: str | None = None
    seconds: float = 0.0


def _run_passes(warehouse, vault, base_url: str, store_id: int, workers: int) -> _Passes:
    """Fulfilment passes by `workers` concurrent workers until every unit has a key. A pass that raises,
    a purchase a guard holds or the refused, or a worker over its passes stops them all (the failure is
    reported with the figures)."""
    from sqlalchemy import text

    from marketsync.assets.digital.fulfilment import fulfil_store
    from marketsync.assets.digital.purchase import vault_keeper
    from marketsync.resources.codeswholesale import CodesWholesaleResource

    out = _Passes()
    keep = vault_keeper(vault)
    done = threading.Event()
    lock = threading.Lock()
    resource = CodesWholesaleResource(timeout_seconds=30, attempts=5, max_retry_wait_seconds=0.2)

    def stop(reason: str) -> None:
        with lock:
            out.failure = out.failure or reason
        done.set()

    def worker(number: int) -> None:
        with resource.session(base_url, CLIENT_ID, CLIENT_SECRET) as api:
            while not done.is_set():
                if out.per_worker[number] >= MAX_PASSES:
                    return stop(f"not converged after {MAX_PASSES} passes of worker {number}")
                try:
                    result = fulfil_store(warehouse.engine, api, store_id, keep)
                except Exception as exc:  # reported with the figures; the run stops
                    return stop(f"worker {number}'s pass {out.per_worker[number] + 1} failed: "
                                f"{type(exc).__name__}: {exc}")
                with lock:
                    out.per_worker[number] += 1
                    out.results.append(result)
                with warehouse.begin() as conn:
                    # Not the production backoff (10 s to 30 min): every open purchase's next step is due now.
                    conn.execute(text("""UPDATE ops.digital_purchases SET next_check_at = now()
                                         WHERE store_id = :s AND next_check_at > now()
                                           AND status IN ('intent', 'sent', 'outcome_unknown', 'fulfilling',
                                                          'waiting')"""), {"s": store_id})
                    held = conn.execute(text("""SELECT purchase_id, status, reason FROM ops.digital_purchases
                                                WHERE store_id = :s AND status IN ('waiting', 'refused')
                                                LIMIT 1"""), {"s": store_id}).first()
                    if held is not None:
                        return stop(f"purchase {held.purchase_id} is {held.status}: {held.reason}")
                    if _units_without_key(conn, store_id) == 0:
                        done.set()
        return None

    started = time.perf_counter()
    with ThreadPoolExecutor(workers, thread_name_prefix="digital-worker") as pool:
        for future in [pool.submit(worker, n) for n in range(workers)]:
            future.result()
    out.seconds = time.perf_counter() - started
    return out


_FIGURES = """
SELECT (SELECT count(*) FROM ops.digital_units WHERE store_id = :s) AS units,
       (SELECT count(*) FROM ops.digital_units WHERE store_id = :s AND digital_key_id IS NULL) AS without_key,
       (SELECT count(*) FROM ops.digital_keys WHERE store_id = :s AND source = 'pool'
                                                AND order_item_id IS NOT NULL) AS pool_keys_used,
       (SELECT count(*) FROM ops.digital_keys WHERE store_id = :s AND source = 'pool'
                                                AND order_item_id IS NULL) AS pool_keys_left,
       (SELECT count(*) FROM ops.digital_keys WHERE store_id = :s AND source = 'supplier') AS bought_keys,
       (SELECT coalesce(max(n), 0) FROM (SELECT count(*) n FROM ops.digital_keys WHERE store_id = :s
                                         AND order_item_id IS NOT NULL GROUP BY order_item_id, unit) k)
           AS max_keys_per_unit,
       -- A unit given a pool key and also planned a purchase: sourced twice (a key paid for twice).
       (SELECT count(*) FROM ops.digital_purchases p JOIN ops.digital_keys k
            ON k.order_item_id = p.order_item_id AND k.unit = p.unit AND k.source = 'pool'
        WHERE p.store_id = :s) AS sourced_twice
"""


def _verify(warehouse, state, store_id: int, purchases_expected: int, armed: Counter, passes: _Passes) -> list[str]:
    """Print the run's figures; the invariants that fail, worded."""
    from sqlalchemy import text

    steps = sum((r.purchase_steps for r in passes.results), Counter())
    with warehouse.begin() as conn:
        f = conn.execute(text(_FIGURES), {"s": store_id}).one()
        purchases = conn.execute(text("SELECT client_order_id, status FROM ops.digital_purchases WHERE store_id = :s"),
                                 {"s": store_id}).all()
    with state.lock:
        charges = Counter(c.client_order_id for c in state.charges)
        requests = Counter(state.requests)
        fired = Counter(state.faults_fired)
        left_armed = len(state.faults)
    ours = {p.client_order_id for p in purchases}
    most = max((charges.get(c, 0) for c in ours), default=0)
    # A bought purchase was charged exactly once; one still open (a run stopped early) at most once.
    least = min((charges.get(p.client_order_id, 0) for p in purchases if p.status == "bought"), default=0)
    foreign = sum(n for c, n in charges.items() if c not in ours)
    routes = ", ".join(f"{route} {n:,}" for route, n in sorted(requests.items()))
    keyed = f.units - f.without_key
    print(f"    {keyed:,} of {f.units:,} units with a key after {passes.seconds:.1f} s = "
          f"{keyed / passes.seconds:,.0f} lines/s; "
          f"passes {dict(sorted(passes.per_worker.items()))} (at most {MAX_PASSES} a worker); "
          f"from the pool {f.pool_keys_used:,}, bought {f.bought_keys:,}")
    print(f"    purchases {len(purchases):,} ({dict(Counter(p.status for p in purchases))}); purchase steps "
          f"{dict(steps.most_common())}")
    print(f"    simulator: {sum(requests.values()):,} requests ({routes}); {sum(charges.values()):,} charges")
    print(f"    faults fired {dict(sorted(fired.items()))} of {dict(sorted(armed.items()))} armed, "
          f"{left_armed} left")
    print(f"    charges per clientOrderId: max {most}, min {least} (bought), {foreign} for ids not ours; keys per "
          f"order item unit: max {f.max_keys_per_unit}; units without a key: {f.without_key}; units with a pool key "
          f"and a purchase: {f.sourced_twice}; peak RSS {peak_rss_mb():.0f} MB")

    failures = [passes.failure] if passes.failure else []
    if f.without_key:
        failures.append(f"{f.without_key} unit(s) without a key")
    if f.max_keys_per_unit != 1:
        failures.append(f"an order item unit has {f.max_keys_per_unit} keys (must be 1)")
    if most != 1 or least != 1 or foreign:
        failures.append(f"charges per clientOrderId from {least} (bought) to {most}, {foreign} of other ids "
                        "(must be 1)")
    if f.sourced_twice:
        failures.append(f"{f.sourced_twice} unit(s) got a pool key and a purchase (a key paid for twice)")
    if len(purchases) != purchases_expected or f.pool_keys_used != POOL_KEYS:
        failures.append(f"{len(purchases)} purchases (expected {purchases_expected}), {f.pool_keys_used} pool keys "
                        f"used of {POOL_KEYS}")
    if fired != armed and not passes.failure:
        failures.append(f"faults fired {dict(fired)}, armed {dict(armed)}: the run did not meet them all")
    return failures


def _run(workers: int) -> list[str]:
    """One configuration on its own database and simulator; the invariants that failed."""
    from sqlalchemy import text

    from marketsync.sandbox.codeswholesale.app import create_app
    from marketsync.sandbox.codeswholesale.state import CodesWholesaleState
    from marketsync.sandbox.http import serve_in_thread

    # A balance no run spends: nothing waits on money.
    state = CodesWholesaleState(seed=13, size=200, clients={CLIENT_ID: CLIENT_SECRET}, page_size=200,
                                balance=1_000_000_000)
    with bench_database(f"digital{workers}") as (warehouse, vault, _), serve_in_thread(create_app(state)) as sim:
        started = time.perf_counter()
        store_id, purchases_expected = _setup(warehouse, vault, state, sim.base_url)
        with warehouse.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        plan = _fault_plan(purchases_expected)
        _arm(state, plan)
        armed = Counter(kind for _, kind in plan)
        print(f"    {workers} worker(s): setup {time.perf_counter() - started:.1f} s ({LINES // 2 * 2:,} lines, "
              f"{POOL_KEYS:,} pool keys, {purchases_expected:,} purchases to make; faults armed "
              f"{dict(sorted(armed.items()))})")
        passes = _run_passes(warehouse, vault, sim.base_url, store_id, workers)
        failures = _verify(warehouse, state, store_id, purchases_expected, armed, passes)
    for failure in failures:
        print(f"    FAILED ({workers} worker(s)): {failure}")
    return failures


def main() -> None:
    print(f"digital: {LINES:,} digital order lines fulfilled through the CodesWholesale simulator, "
          f"{FAULT_PERCENT:g}% of orders each with a lost answer, a 503 and delayed codes")
    failed = [workers for workers in WORKERS if _run(workers)]  # every configuration runs, then the verdict
    if failed:
        raise SystemExit(f"digital: invariants failed with {', '.join(map(str, failed))} worker(s): see above")


if __name__ == "__main__":
    main()
