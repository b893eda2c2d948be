"""Buying a digital key from the supplier (CodesWholesale) exactly once per order item unit.

A purchase costs money, so it is planned before anything is sent: the intent, with our own client order
id (which the supplier keeps on its order), is committed first. Then each step moves it on, one worker at
a time (a session advisory lock per purchase, released if the worker dies):

    intent ──send──▶ sent ──answer──▶ fulfilling ──codes──▶ bought
       ▲  guards: waiting            │ lost answer: outcome_unknown ──look up by client order id──┐
       └──── nothing bought (a 503, no connection), or no order found after the settle time ◀───┘

`sent` is committed before the request goes out, so a worker killed between the supplier's charge and
our commit leaves `sent` behind; the next step looks the order up and never sends blindly. An order not
found right after a lost answer may still appear (the supplier keeps working after the client hangs
up): only after `settle_seconds` without an order is the same client order id sent again. Guards keep
a purchase waiting, with its reason, rather than buying: a listed price above the product's maximum
cost, a supplier price above the listed one by more than the product's margin, a balance short of the
price. Keys reach `keep_key` in the same transaction that marks the purchase bought.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, text

from marketsync.assets.digital.balance import SHORT_BALANCE_REASON, alert_short_balance
from marketsync.assets.digital.keys import DigitalKeyError, store_supplier_key
from marketsync.resources.advisory_lock import try_session_lock
from marketsync.resources.codeswholesale import (
    IMAGE,
    PRE_ORDER,
    CodesWholesaleApi,
    CodesWholesaleError,
    Order,
    OrderCode,
    OrderLineRequest,
)
from marketsync.resources.credentials import DigitalKey, VaultOperations
from marketsync.resources.sql_files import query_beside

# How old a balance reading may be for the short-balance guard (less our own orders since).
BALANCE_MAX_AGE_SECONDS = 60.0
# A lost answer's order may show up this long after the request; until then nothing is sent again.
SETTLE_SECONDS = 600.0
# Polls of an order waiting for its codes, and retries after a refusal that bought nothing, back off
# from this to MAX_WAIT_SECONDS.
FIRST_WAIT_SECONDS = 10.0
MAX_WAIT_SECONDS = 1800.0
# Failures that mean the supplier did nothing: the same request may go again later.
NOTHING_BOUGHT = frozenset({"server", "rate_limited", "unreachable"})
# Refusals a person (or time) can lift: the purchase waits with the reason instead of being refused.
WAITING_KINDS = frozenset({"insufficient_funds", "price_changed", "out_of_stock", "auth"})
_LOCK_CLASS = 0x44474B  # "DGK": the advisory-lock namespace of purchases
# Where a key goes once bought: (connection of the step's transaction, the purchase, the code).
KeepKey = Callable[[Connection, "Purchase", OrderCode], None]


@dataclass(frozen=True)
class Purchase:
    """One planned purchase of one unit of an order item, as ops.digital_purchases holds it."""

    purchase_id: int
    store_id: int
    order_item_id: int
    unit: int
    client_order_id: str
    supplier_product_id: str
    listed_unit_price: Decimal
    status: str
    supplier_order_id: str | None
    charged_unit_price: Decimal | None
    reason: str | None
    attempts: int
    sent_at: datetime | None
    created_at: datetime
    max_unit_cost: Decimal | None
    price_margin_percent: Decimal | None

    @property
    def offer(self) -> Decimal:
        """The most we pay a unit: the listed price plus the margin, never above the maximum cost."""
        margin = Decimal(self.price_margin_percent if self.price_margin_percent is not None else 5)
        offer = (self.listed_unit_price * (1 + margin / 100)).quantize(Decimal("0.01"))
        return min(offer, self.max_unit_cost) if self.max_unit_cost is not None else offer


def vault_keeper(vault: VaultOperations) -> KeepKey:
    """What production keeps a bought key with: encrypted on its order item unit (ops.digital_keys), in
    the transaction that marks the purchase bought."""

    def keep(conn: Connection, purchase: Purchase, code: OrderCode) -> None:
        product_id = conn.execute(text("SELECT product_id FROM core.order_items WHERE order_item_id = :i"),
                                  {"i": purchase.order_item_id}).scalar_one()
        value = code.value.get_secret_value() if code.value is not None else ""
        key = DigitalKey(value, "image" if code.kind == IMAGE else "text", [link.href for link in code.links])
        store_supplier_key(conn, vault, store_id=purchase.store_id, product_id=product_id,
                           purchase_id=purchase.purchase_id, order_item_id=purchase.order_item_id,
                           unit=purchase.unit, key=key)

    return keep


def plan_purchase(conn: Connection, store_id: int, order_item_id: int, unit: int, supplier_product_id: str,
                  listed_unit_price: Decimal) -> int | None:
    """The purchase of one unit of an order item, planned (committed with the caller's transaction)
    before anything is sent; planning the same unit again returns the same purchase. None when the unit
    has a key (nothing is bought for it)."""
    conn.execute(query_beside(__file__, "purchase_intent.sql"), {
        "store_id": store_id, "order_item_id": order_item_id, "unit": unit,
        "client_order_id": f"ms-{uuid.uuid4().hex[:24]}", "supplier_product_id": supplier_product_id,
        "listed_unit_price": listed_unit_price})
    return conn.execute(query_beside(__file__, "purchase_by_unit.sql"),
                        {"order_item_id": order_item_id, "unit": unit}).scalar()


def load_purchase(conn: Connection, purchase_id: int) -> Purchase:
    return Purchase(**conn.execute(query_beside(__file__, "purchase_get.sql"),
                                   {"purchase_id": purchase_id}).mappings().one())


def due_purchases(conn: Connection, store_id: int, limit: int = 100) -> list[int]:
    """The store's purchases with a step due now, oldest first."""
    return list(conn.execute(query_beside(__file__, "purchases_due.sql"),
                             {"store_id": store_id, "limit": limit}).scalars())


def advance(engine: Engine, api: CodesWholesaleApi, purchase_id: int, keep_key: KeepKey, *,
            settle_seconds: float = SETTLE_SECONDS) -> str:
    """Move one purchase a step on; returns its status afterwards, or "busy" when another worker holds
    it. Safe to call from any number of workers at once and as often as wanted."""
    with try_session_lock(engine, _LOCK_CLASS, purchase_id) as taken:
        if not taken:
            return "busy"
        with engine.begin() as conn:
            purchase = load_purchase(conn, purchase_id)
        return _STEPS.get(purchase.status, _settled)(engine, api, purchase, keep_key, settle_seconds)


def _set(conn: Connection, purchase: Purchase, status: str, *, reason: str | None = None, sent: bool = False,
         wait: float = 0.0, order: Order | None = None, charged: Decimal | None = None) -> str:
    conn.execute(query_beside(__file__, "purchase_set.sql"), {
        "purchase_id": purchase.purchase_id, "status": status, "reason": reason, "sent": int(sent),
        "wait_seconds": wait, "supplier_order_id": order.order_id if order else None,
        "charged_unit_price": charged})
    return status


def _wait_after(moment: datetime | None) -> float:
    """A poll's backoff: half the time since the request, within [FIRST_WAIT_SECONDS, MAX_WAIT_SECONDS]."""
    if moment is None:
        return FIRST_WAIT_SECONDS
    age = (datetime.now(moment.tzinfo) - moment).total_seconds()
    return min(MAX_WAIT_SECONDS, max(FIRST_WAIT_SECONDS, age / 2))


def _send(engine: Engine, api: CodesWholesaleApi, purchase: Purchase, keep_key: KeepKey, settle: float) -> str:
    """An intent (or a waiting purchase whose time came): the guards, then the one request."""
    try:
        guard = _guard(api, purchase)
    except CodesWholesaleError:  # the balance could not be read: try again later, nothing was sent
        with engine.begin() as conn:
            return _set(conn, purchase, purchase.status, reason=purchase.reason, wait=FIRST_WAIT_SECONDS)
    with engine.begin() as conn:
        if guard is not None:
            if guard.startswith(SHORT_BALANCE_REASON):
                alert_short_balance(conn, purchase.store_id, guard)
            return _set(conn, purchase, "waiting", reason=guard, wait=MAX_WAIT_SECONDS / 6)
        _set(conn, purchase, "sent", sent=True)  # committed before the request: a dead worker leaves "sent"
    try:
        order = api.place_order(purchase.client_order_id,
                                [OrderLineRequest(purchase.supplier_product_id, 1, purchase.offer)],
                                allow_pre_order=True)
    except CodesWholesaleError as exc:
        with engine.begin() as conn:
            if exc.outcome_unknown:
                return _set(conn, purchase, "outcome_unknown", wait=FIRST_WAIT_SECONDS)
            if exc.kind in NOTHING_BOUGHT:
                backoff = min(MAX_WAIT_SECONDS, FIRST_WAIT_SECONDS * 2 ** purchase.attempts)
                return _set(conn, purchase, "intent", wait=backoff)
            if exc.kind == "insufficient_funds":  # the balance changed between our look and the order
                reason = f"{SHORT_BALANCE_REASON} was short when ordering: {exc}"
                alert_short_balance(conn, purchase.store_id, reason)
                return _set(conn, purchase, "waiting", reason=reason, wait=MAX_WAIT_SECONDS / 6)
            status = "waiting" if exc.kind in WAITING_KINDS else "refused"
            return _set(conn, purchase, status, reason=str(exc), wait=MAX_WAIT_SECONDS / 6)
    return _record(engine, api, purchase, order, keep_key)


def _guard(api: CodesWholesaleApi, purchase: Purchase) -> str | None:
    """Why the purchase must not be sent now, or None."""
    if purchase.max_unit_cost is not None and purchase.listed_unit_price > purchase.max_unit_cost:
        return (f"the supplier's listed price {purchase.listed_unit_price} is above the product's maximum cost "
                f"{purchase.max_unit_cost}")
    # A reading up to a minute old less our own orders since serves; short, it is read again fresh (a
    # top-up since shows at once).
    balance = api.balance(max_age_seconds=BALANCE_MAX_AGE_SECONDS)
    if balance.total_to_use < purchase.offer:
        balance = api.balance()
    if balance.total_to_use < purchase.offer:
        return f"{SHORT_BALANCE_REASON} {balance.total_to_use} is short of the price {purchase.offer}"
    return None


def _look_up(engine: Engine, api: CodesWholesaleApi, purchase: Purchase, keep_key: KeepKey, settle: float) -> str:
    """A request whose outcome is unknown (a lost answer, a worker that died with it): find the order by
    our client order id before anything is sent again."""
    since = purchase.created_at - timedelta(days=1)
    try:
        found = api.find_orders(purchase.client_order_id, since)
    except CodesWholesaleError:
        with engine.begin() as conn:
            return _set(conn, purchase, purchase.status, wait=_wait_after(purchase.sent_at))
    if found:
        return _record(engine, api, purchase, api.get_order(found[0].order_id), keep_key)
    settled = purchase.sent_at is None or _age(purchase.sent_at) >= settle
    with engine.begin() as conn:
        if settled:  # no order so long after the request: it never reached the supplier
            return _set(conn, purchase, "intent")
        return _set(conn, purchase, purchase.status, wait=_wait_after(purchase.sent_at))


def _age(moment: datetime) -> float:
    return (datetime.now(moment.tzinfo) - moment).total_seconds()


def _poll(engine: Engine, api: CodesWholesaleApi, purchase: Purchase, keep_key: KeepKey, settle: float) -> str:
    """A bought order waiting for its codes (Fulfilling, or a pre-order)."""
    try:
        order = api.get_order(str(purchase.supplier_order_id))
    except CodesWholesaleError:
        with engine.begin() as conn:
            return _set(conn, purchase, "fulfilling", wait=_wait_after(purchase.sent_at))
    return _record(engine, api, purchase, order, keep_key)


def _record(engine: Engine, api: CodesWholesaleApi, purchase: Purchase, order: Order, keep_key: KeepKey) -> str:
    """What the supplier answered for our order: its codes kept with the purchase marked bought, in one
    transaction; or the order noted as fulfilling until they come."""
    line = next((line for line in order.lines if line.product_id == purchase.supplier_product_id), None)
    code = _delivered(api, line.codes[0]) if line is not None and line.codes else None
    with engine.begin() as conn:
        if code is None:
            return _set(conn, purchase, "fulfilling", order=order, wait=_wait_after(purchase.sent_at),
                        charged=line.unit_price if line else None)
        try:
            keep_key(conn, purchase, code)
        except DigitalKeyError as exc:  # bought, but the key cannot be kept (the supplier sold it twice)
            return _set(conn, purchase, "refused", reason=str(exc), order=order,
                        charged=line.unit_price if line else None)
        return _set(conn, purchase, "bought", order=order, charged=line.unit_price if line else None)


def _delivered(api: CodesWholesaleApi, code: OrderCode) -> OrderCode | None:
    """The code with its key, reading a pre-ordered one again; None while the supplier has none yet."""
    if code.kind == PRE_ORDER or not code.delivered:
        try:
            code = api.get_code(code.code_id)
        except CodesWholesaleError:
            return None
    return code if code.delivered else None


def _settled(engine: Engine, api: Any, purchase: Purchase, keep_key: KeepKey, settle: float) -> str:
    return purchase.status  # bought or refused: nothing more to do


_STEPS: dict[str, Callable[[Engine, CodesWholesaleApi, Purchase, KeepKey, float], str]] = {
    "intent": _send, "waiting": _send, "sent": _look_up, "outcome_unknown": _look_up, "fulfilling": _poll,
}
