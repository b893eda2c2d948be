"""What a person (or an auto-confirm rule) does to an order: confirm, reject, set tracking, ship.

Each action checks that it makes sense for the order now, records the local decision, and queues the
write to the channel in ops.outbound_queue with an idempotency key, so asking twice sends once. The
queue, not this module, talks to the channel.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from marketsync.assets import outbound_queue
from marketsync.assets.accounts import Account, get_account_by_id
from marketsync.assets.catalog.exceptions import blocking_exceptions
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.session_context import set_cause
from marketsync.resources.sql_files import query_beside


@dataclass(frozen=True)
class OrderRef:
    order_id: int
    account_id: int
    store: str
    channel: str
    order_number: str
    channel_shipment_id: str
    shipment_number: str | None
    sync_status: str
    channel_state: str
    tracking_number: str | None
    tracking_carrier: str | None

    @property
    def label(self) -> str:
        return self.order_number


def find_order(conn: Connection, ref: str, store: str | None = None) -> OrderRef:
    """An order by its marketplace order number (Letzshop `R…`), its shipment number, or our id."""
    params = {"ref": ref, "store": store, "id": int(ref) if ref.isdigit() else None}
    rows = conn.execute(query_beside(__file__, "order_find.sql"), params).all()
    if not rows:
        raise MarketsyncError(f"no order '{ref}'" + (f" in store '{store}'" if store else ""))
    if len(rows) > 1:
        ids = ", ".join(str(r.order_id) for r in rows)
        raise MarketsyncError(f"'{ref}' names {len(rows)} orders (ids {ids}): use the id, or --store")
    return OrderRef(**rows[0]._mapping)


def order_by_id(conn: Connection, order_id: int) -> OrderRef:
    return OrderRef(**conn.execute(query_beside(__file__, "order_by_id.sql"), {"id": order_id}).one()._mapping)


def order_units(conn: Connection, order_id: int) -> list[dict]:
    return [dict(r._mapping) for r in conn.execute(query_beside(__file__, "order_units.sql"), {"o": order_id})]


def _pick_units(conn: Connection, order: OrderRef, unit_ids: list[str] | None) -> list[str]:
    units = order_units(conn, order.order_id)
    open_units = [u["channel_item_id"] for u in units if u["channel_state"] == "unconfirmed"]
    if not unit_ids:
        if not open_units:
            raise MarketsyncError(f"order {order.label} has no unconfirmed units left")
        return open_units
    known = {u["channel_item_id"] for u in units} | {str(u["order_item_id"]) for u in units}
    by_local_id = {str(u["order_item_id"]): u["channel_item_id"] for u in units}
    unknown = [u for u in unit_ids if u not in known]
    if unknown:
        raise MarketsyncError(f"order {order.label} has no unit(s) {', '.join(unknown)}")
    return [by_local_id.get(u, u) for u in unit_ids]


def _require_open(order: OrderRef, action: str) -> None:
    if order.sync_status in ("rejected", "shipped") or order.channel_state == "declined":
        raise MarketsyncError(f"cannot {action} order {order.label}: it is already {order.sync_status}")


def confirm_order(conn: Connection, order: OrderRef, unit_ids: list[str] | None = None,
                  triggered_by: str = "cli") -> outbound_queue.QueuedItem:
    """Confirm all unconfirmed units (or the listed ones). Refused while exceptions are open."""
    _require_open(order, "confirm")
    blocking = blocking_exceptions(conn, order.order_id)
    if blocking:
        kinds = ", ".join(sorted({e["kind"] for e in blocking}))
        raise MarketsyncError(
            f"order {order.label} cannot be confirmed: {len(blocking)} exception(s) not resolved ({kinds}); "
            f"see `marketsync exceptions list --store {order.store}`")
    units = _pick_units(conn, order, unit_ids)
    item = outbound_queue.enqueue(
        conn, order.account_id, "confirm",
        {"shipment_id": order.channel_shipment_id, "decisions": dict.fromkeys(sorted(units), True)},
        order_id=order.order_id, triggered_by=triggered_by)
    set_cause(conn, "confirmation queued")
    conn.execute(query_beside(__file__, "order_confirming.sql"), {"o": order.order_id})
    return item


def reject_order(conn: Connection, order: OrderRef, reason: str, unit_ids: list[str] | None = None,
                 triggered_by: str = "cli") -> outbound_queue.QueuedItem:
    """Decline all unconfirmed units (or the listed ones): how an order is rejected on Letzshop."""
    if not reason or not reason.strip():
        raise MarketsyncError("a rejection needs a reason (--reason)")
    _require_open(order, "reject")
    units = _pick_units(conn, order, unit_ids)
    item = outbound_queue.enqueue(
        conn, order.account_id, "reject",
        {"shipment_id": order.channel_shipment_id, "decisions": dict.fromkeys(sorted(units), False),
         "reason": reason.strip()},
        order_id=order.order_id, triggered_by=triggered_by)
    set_cause(conn, "rejection queued")
    conn.execute(query_beside(__file__, "order_rejecting.sql"), {"o": order.order_id, "r": reason.strip()})
    return item


def tracking_url(account: Account, carrier: str | None, shipment_number: str | None) -> str | None:
    """The carrier's label/tracking page: a per-carrier prefix from the account settings + shipment number."""
    prefixes = {k.lower(): v for k, v in (account.setting("carrier_label_prefixes") or {}).items()}
    prefix = prefixes.get((carrier or "").lower())
    return f"{prefix}{shipment_number}" if prefix and shipment_number else None


def set_tracking(conn: Connection, order: OrderRef, number: str, carrier: str,
                 triggered_by: str = "cli") -> outbound_queue.QueuedItem:
    """Record tracking locally and queue it for the channel."""
    if not number or not carrier:
        raise MarketsyncError("tracking needs a number (--number) and a carrier (--carrier)")
    if order.sync_status not in ("confirmed", "confirming", "shipped"):
        raise MarketsyncError(f"order {order.label} is {order.sync_status}: confirm it before setting tracking")
    if conn.execute(query_beside(__file__, "order_fulfilled_by_amazon.sql"), {"o": order.order_id}).scalar():
        raise MarketsyncError(f"order {order.label} is fulfilled by Amazon itself (FBA): Amazon ships it and "
                              f"sets its tracking")
    account = get_account_by_id(conn, order.account_id)
    conn.execute(
        query_beside(__file__, "order_set_tracking.sql"),
        {"n": number, "c": carrier, "u": tracking_url(account, carrier, order.shipment_number), "o": order.order_id})
    return outbound_queue.enqueue(
        conn, order.account_id, "set_tracking",
        {"shipment_id": order.channel_shipment_id, "code": number, "provider": carrier},
        order_id=order.order_id, triggered_by=triggered_by)


def ship_order(conn: Connection, order: OrderRef, number: str | None = None, carrier: str | None = None,
               triggered_by: str = "cli") -> dict:
    """Mark the order shipped: tracking number, carrier (from the shipment unless given), label URL,
    shipped_at; and push the tracking to the channel."""
    if order.sync_status not in ("confirmed", "confirming", "shipped"):
        raise MarketsyncError(f"order {order.label} is {order.sync_status}: confirm it before shipping")
    account = get_account_by_id(conn, order.account_id)
    carrier = carrier or order.tracking_carrier or account.setting("default_carrier")
    number = number or order.tracking_number or order.shipment_number
    if not carrier or not number:
        raise MarketsyncError(f"order {order.label} has no carrier or tracking number: pass --carrier and --number")
    queued = set_tracking(conn, order, number, carrier, triggered_by)
    url = tracking_url(account, carrier, order.shipment_number)
    set_cause(conn, "shipment recorded (tracking queued)")
    conn.execute(query_beside(__file__, "order_shipped.sql"), {"o": order.order_id})
    return {"order": order.label, "tracking_number": number, "carrier": carrier, "tracking_url": url,
            "outbound_id": queued.outbound_id}


def label_url(conn: Connection, order: OrderRef) -> str:
    account = get_account_by_id(conn, order.account_id)
    carrier = order.tracking_carrier or account.setting("default_carrier")
    url = tracking_url(account, carrier, order.shipment_number)
    if not url:
        raise MarketsyncError(f"no label URL prefix for carrier '{carrier}': set one with "
                              f"`marketsync account add {order.store} {order.channel} "
                              f"--set carrier_label_prefixes.{carrier}=URL`")
    return url


def auto_confirm_ready_orders(conn: Connection, account: Account, triggered_by: str = "auto_confirm") -> list[str]:
    """Queue a confirmation for every order of `account` that a person would confirm without thinking:
    still imported, every unit matched, no exception open. Returns their order numbers."""
    rows: Sequence[int] = conn.execute(query_beside(__file__, "orders_ready_to_confirm.sql"),
                        {"a": account.account_id}).scalars().all()
    confirmed = []
    for order_id in rows:
        order = order_by_id(conn, order_id)
        confirm_order(conn, order, triggered_by=triggered_by)
        confirmed.append(order.order_number)
    return confirmed
