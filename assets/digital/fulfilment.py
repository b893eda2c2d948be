"""Fulfilling a store's digital order lines: every unit of a digital product on a confirmed order gets
exactly one key, from the merchant's pool or bought from the supplier, and an order whose every digital
unit has its key is handed to delivery.

One pass, safe to run from any number of workers at once and as often as wanted:

1. source: each unit without a key or a purchase takes the oldest pool key of its product (pool first,
   unless the product is supplier only); when the pool is empty (and the product may be bought), a
   purchase is planned at the price list's price (assets/digital/purchase.py buys it exactly once);
2. buy: every purchase with a step due moves one step on;
3. the pool levels are checked (one open alert per product below its threshold);
4. deliver: every order whose digital units all have keys, some not yet delivered, is handed to
   `deliver(conn, order_id)` (the e-mail channel queues the message; queuing twice is a no-op);
5. settle: every fully digital order whose buyer has every key becomes `fulfilled` and its marketplace
   is told (assets/digital/delivered.py); a mixed order goes on with its physical flow.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, text

from marketsync.assets.digital.delivered import settle_delivered_orders
from marketsync.assets.digital.keys import assign_pool_key, check_pool_levels
from marketsync.assets.digital.purchase import KeepKey, advance, due_purchases, plan_purchase
from marketsync.resources.codeswholesale import CodesWholesaleApi
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside

_SOURCING_LOCK = 0x44475352  # "DGSR": the advisory-lock namespace of sourcing, per store
# Units sourced per pass, and purchase steps per pass: a store with more is picked up by the next pass.
UNITS_PER_PASS = 2000
STEPS_PER_PASS = 2000
Deliver = Callable[[Connection, int], None]


@dataclass
class FulfilmentPass:
    """What one pass did for one store."""

    from_pool: int = 0
    purchases_planned: int = 0
    waiting_for_pool: int = 0  # pool-only products with an empty pool
    without_price: int = 0  # supplier products the price list does not carry: nothing is bought
    purchase_steps: Counter = field(default_factory=Counter)  # status after each step
    deliveries: int = 0
    # Orders whose delivery could not be queued (no e-mail account, no sender set): their keys wait.
    delivery_errors: list[str] = field(default_factory=list)
    low_pools: int = 0
    # Purchases whose step failed (a worded error): the others went on; each is tried again next pass.
    purchase_errors: list[str] = field(default_factory=list)
    orders_fulfilled: int = 0
    # Fully digital orders delivered whose marketplace refused to be told: recorded by a later pass.
    settle_errors: list[str] = field(default_factory=list)

    def as_metadata(self) -> dict:
        return {"from_pool": self.from_pool, "purchases_planned": self.purchases_planned,
                "waiting_for_pool": self.waiting_for_pool, "without_price": self.without_price,
                "purchases_bought": self.purchase_steps.get("bought", 0),
                "purchases_waiting": self.purchase_steps.get("waiting", 0),
                "purchases_unresolved": sum(n for s, n in self.purchase_steps.items()
                                            if s in ("sent", "outcome_unknown", "fulfilling", "intent")),
                "deliveries_queued": self.deliveries, "deliveries_blocked": len(self.delivery_errors),
                "low_pools": self.low_pools, "orders_fulfilled": self.orders_fulfilled,
                "orders_not_settled": len(self.settle_errors), "purchase_errors": len(self.purchase_errors)}


def source_units(conn: Connection, store_id: int, result: FulfilmentPass, limit: int = UNITS_PER_PASS) -> None:
    """Step 1: a pool key, or a planned purchase, for every unit that has neither.

    One worker at a time per store (a transaction-level advisory lock): a unit whose pool key another
    worker is taking (locked, not yet committed) would otherwise look keyless to this one and be bought
    for, a key paid for twice. Waiting here is short; the buying that follows runs in parallel."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:c, :s)"), {"c": _SOURCING_LOCK, "s": store_id})
    units = conn.execute(query_beside(__file__, "units_to_source.sql"), {"store_id": store_id, "limit": limit}).all()
    for unit in units:
        # A supplier-only product takes only a spare key (bought for a unit that got another one).
        if assign_pool_key(conn, store_id, unit.product_id, unit.order_item_id, unit.unit,
                           spare_only=unit.sources == "supplier_only") is not None:
            result.from_pool += 1
        elif unit.sources == "pool_only":
            result.waiting_for_pool += 1
        elif unit.listed_unit_price is None:
            result.without_price += 1
        elif plan_purchase(conn, store_id, unit.order_item_id, unit.unit, unit.supplier_product_id,
                           unit.listed_unit_price) is not None:
            result.purchases_planned += 1


def fulfil_store(engine: Engine, api: CodesWholesaleApi | None, store_id: int, keep_key: KeepKey,
                 deliver: Deliver | None = None) -> FulfilmentPass:
    """One fulfilment pass for a store (see the module's docstring). Without a supplier client (`api`
    None: the store has no CodesWholesale source) nothing is bought: its price list is empty, so no
    purchase is planned, and any purchase left from before waits for a client."""
    result = FulfilmentPass()
    with engine.begin() as conn:
        source_units(conn, store_id, result)
    with engine.begin() as conn:
        due = due_purchases(conn, store_id, limit=STEPS_PER_PASS) if api is not None else []
    for purchase_id in due:
        try:
            result.purchase_steps[advance(engine, api, purchase_id, keep_key)] += 1
        except MarketsyncError as exc:  # one purchase's problem leaves the others' steps and the deliveries
            result.purchase_errors.append(f"purchase {purchase_id}: {exc}")
    with engine.begin() as conn:
        result.low_pools = sum(1 for level in check_pool_levels(conn, store_id) if level.low)
        if deliver is not None:
            ready = conn.execute(query_beside(__file__, "orders_with_every_key.sql"), {"store_id": store_id}).scalars()
            for order_id in list(ready):
                try:
                    with conn.begin_nested():  # one order's refusal leaves the others' deliveries queued
                        deliver(conn, order_id)
                    result.deliveries += 1
                except MarketsyncError as exc:
                    result.delivery_errors.append(str(exc))
    with engine.begin() as conn:
        settled, result.settle_errors = settle_delivered_orders(conn, store_id)
        result.orders_fulfilled = len(settled)
    return result
