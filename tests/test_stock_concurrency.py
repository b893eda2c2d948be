"""10,000 concurrent order imports, rejections and shipments against limited stock, with stock pushes
running all the while: no push ever offers more than could be sold at the moment it computed, and the
ledger's terms add up for every pushed number.

The orders are written the way every channel importer leaves them in the canonical model (an order row,
one item row per unit, its sync_status moving to rejected or shipped); availability reads only that
model. Each operation also records, in the same transaction, what it did (a test-only event table with
the transaction id): a push's stored snapshot then says exactly which operations it saw, so the
expected reservations of every ledger row can be recomputed independently of the code under test.
"""
from __future__ import annotations

import random
import threading

import psycopg
import pytest
from sqlalchemy import text

from marketsync.assets.stock.manual import adjust
from marketsync.assets.stock.push import push_stock
from marketsync.assets.stock.settings import save_settings
from marketsync.resources.database import libpq_url

STORE = "busy"
PRODUCTS = 20
UNITS_EACH = 150
SAFETY = 2
OPERATIONS = 10_000
WORKERS = 6


@pytest.fixture
def busy_store(warehouse, letzshop_store):
    account, state, location = letzshop_store(STORE, [f"P{i:02d}" for i in range(PRODUCTS)])
    with warehouse.begin() as conn:
        for i in range(PRODUCTS):
            adjust(conn, STORE, f"P{i:02d}", count=UNITS_EACH)
        save_settings(conn, STORE, "letzshop", safety_stock=SAFETY, delivery={"location": location})
        conn.execute(text("DROP TABLE IF EXISTS public.stock_test_events"))
        conn.execute(text("""CREATE TABLE public.stock_test_events (
                                 xid xid8 NOT NULL DEFAULT pg_current_xact_id(), product_id bigint NOT NULL,
                                 kind text NOT NULL, units integer NOT NULL)"""))
        products = dict(conn.execute(text("SELECT sku, product_id FROM core.products WHERE store_id = :s"),
                                     {"s": account.store_id}).all())
    yield account, state, products
    with warehouse.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS public.stock_test_events"))


class Worker(threading.Thread):
    """Imports orders for what the channel lists, rejects and ships its own open orders."""

    def __init__(self, n: int, url: str, account, state, products: dict[str, int], operations: int):
        super().__init__(name=f"orders-{n}")
        self.rng = random.Random(n)
        self.url, self.account, self.state, self.products = url, account, state, products
        self.operations = operations
        self.open: list[tuple[int, int, int]] = []  # (order_id, product_id, units)
        self.counts = {"import": 0, "reject": 0, "ship": 0}
        self.error: BaseException | None = None
        self.n = n

    def run(self) -> None:
        try:
            with psycopg.connect(self.url) as conn:
                for i in range(self.operations):
                    self.step(conn, i)
        except BaseException as exc:
            self.error = exc

    def step(self, conn, i: int) -> None:
        roll = self.rng.random()
        if self.open and (roll < 0.2 or (roll < 0.5 and len(self.open) > 3)):
            order_id, product_id, units = self.open.pop(self.rng.randrange(len(self.open)))
            kind = "reject" if roll < 0.2 else "ship"
            with conn.transaction():
                conn.execute("UPDATE core.orders SET sync_status = %s, shipped_at = CASE WHEN %s THEN now() END, "
                             "updated_at = now() WHERE order_id = %s",
                             ("rejected" if kind == "reject" else "shipped", kind == "ship", order_id))
                conn.execute("INSERT INTO public.stock_test_events (product_id, kind, units) VALUES (%s, %s, %s)",
                             (product_id, kind, units))
            self.counts[kind] += 1
            return
        # Customers buy only what the channel lists (it may lag behind: that race is the channel's).
        listed = [sku for sku in self.products if (self.state.inventory_stock(sku) or 0) > 0]
        sku = self.rng.choice(listed or list(self.products))
        units = self.rng.randint(1, 3)
        number = f"T{self.n}-{i}"
        with conn.transaction():
            order_id = conn.execute(
                """INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id,
                                            order_number, channel_state, source_payload_sha)
                   VALUES (%s, %s, 'letzshop', %s, %s, %s, 'unconfirmed', 'sha') RETURNING order_id""",
                (self.account.store_id, self.account.account_id, number, number, number)).fetchone()[0]
            conn.execute("""INSERT INTO core.order_items (order_id, channel_item_id, sku, channel_state, product_id,
                                                          match_status)
                            SELECT %s, u::text, %s, 'unconfirmed', %s, 'matched' FROM generate_series(1, %s) u""",
                         (order_id, sku, self.products[sku], units))
            conn.execute("INSERT INTO public.stock_test_events (product_id, kind, units) VALUES (%s, 'import', %s)",
                         (self.products[sku], units))
        self.open.append((order_id, self.products[sku], units))
        self.counts["import"] += 1


def test_concurrent_orders_never_make_a_push_offer_more_than_can_be_sold(busy_store, warehouse, vault, database_url):
    account, state, products = busy_store
    assert push_stock(warehouse, vault, STORE, "letzshop").acknowledged == PRODUCTS
    workers = [Worker(n, libpq_url(database_url), account, state, products,
                      OPERATIONS // WORKERS + (n < OPERATIONS % WORKERS))
               for n in range(WORKERS)]
    pushes = []
    for worker in workers:
        worker.start()
    while any(w.is_alive() for w in workers):
        pushes.append(push_stock(warehouse, vault, STORE, "letzshop", triggered_by="test"))
    for worker in workers:
        worker.join()
        assert worker.error is None, worker.error
    pushes.append(push_stock(warehouse, vault, STORE, "letzshop", triggered_by="test"))
    done = {k: sum(w.counts[k] for w in workers) for k in ("import", "reject", "ship")}
    assert sum(done.values()) == OPERATIONS and min(done.values()) > 500
    assert len(pushes) >= 5 and sum(p.pushed for p in pushes) > PRODUCTS  # pushes ran during the storm

    with warehouse.begin() as conn:
        rows = conn.execute(text("""
            WITH seen AS (
                SELECT y.inventory_sync_id, e.product_id,
                       sum(CASE e.kind WHEN 'import' THEN e.units ELSE -e.units END) AS reserved,
                       sum(e.units) FILTER (WHERE e.kind = 'ship') AS shipped
                FROM ops.inventory_syncs y
                JOIN public.stock_test_events e ON pg_visible_in_snapshot(e.xid, y.snapshot)
                GROUP BY 1, 2)
            SELECT l.*, coalesce(s.reserved, 0) AS seen_reserved, coalesce(s.shipped, 0) AS seen_shipped
            FROM core.stock_ledger l
            LEFT JOIN seen s USING (inventory_sync_id, product_id)
            WHERE l.account_id = :a ORDER BY l.ledger_id"""), {"a": account.account_id}).mappings().all()
    assert len(rows) > PRODUCTS
    for row in rows:
        # The terms are exactly the operations this push's snapshot saw...
        assert (row["reserved"], row["shipped_uncounted"]) == (row["seen_reserved"], row["seen_shipped"]), row
        assert row["manual_quantity"] == UNITS_EACH and row["safety_stock"] == SAFETY
        # ...they add up to the pushed number...
        available = row["manual_quantity"] - row["reserved"] - row["shipped_uncounted"] - row["safety_stock"]
        assert row["available"] == available
        assert row["pushed_quantity"] == max(available, 0)  # threshold 0, zeros sent, no override or maximum
        # ...which never exceeds what was left to sell.
        sellable = UNITS_EACH - row["seen_reserved"] - row["seen_shipped"]
        assert row["pushed_quantity"] <= max(sellable - SAFETY, 0)

    # In the end the channel lists exactly what is left, for every product.
    with warehouse.begin() as conn:
        left = dict(conn.execute(text("""
            SELECT p.sku, sum(CASE e.kind WHEN 'import' THEN e.units WHEN 'reject' THEN -e.units ELSE 0 END)
            FROM public.stock_test_events e JOIN core.products p USING (product_id) GROUP BY p.sku""")).all())
    assert state.inventory_snapshot() == {sku: max(UNITS_EACH - left.get(sku, 0) - SAFETY, 0) for sku in products}
