"""Fully digital orders that reached their buyer: fulfilled, and the marketplace told.

An order whose every wanted item is a digital product is fulfilled once its buyer has every key: it is
recorded (core.orders.digital_delivered_at, which makes the cross-channel status `fulfilled`; the local
workflow's sync_status becomes `shipped`) and the channel it came from is told, by the function its
declaration names (`Orders.digital_delivered`): Letzshop's shipment confirmed, eBay's line items
fulfilled without tracking, Amazon's merchant asked to confirm by hand (its API documents no shipment
confirmation without a carrier and a tracking number). A mixed order is left to its physical flow.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection

from marketsync.assets.channel_registry import declared, load
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside

TellChannel = Callable[[Connection, int], str]


@dataclass(frozen=True)
class Settled:
    """A fully digital order recorded as fulfilled, and what its channel was told."""

    order_id: int
    order_number: str
    channel: str
    told: str


def channel_teller(channel: str) -> TellChannel | None:
    """The channel's `digital_delivered` function, or None when it declares none."""
    declaration = declared(channel)
    reference = declaration.orders.digital_delivered if declaration and declaration.orders else None
    return load(reference) if reference else None


def settle_delivered_orders(conn: Connection, store_id: int) -> tuple[list[Settled], list[str]]:
    """Record every delivered, fully digital order of the store as fulfilled and tell its channel, one
    order at a time (a savepoint each): an order whose channel refuses (a worded MarketsyncError) stays
    unrecorded and is tried again by the next pass, the others go. Returns (settled, errors)."""
    settled: list[Settled] = []
    errors: list[str] = []
    for order in conn.execute(query_beside(__file__, "orders_delivered_unsettled.sql"), {"store_id": store_id}).all():
        tell = channel_teller(order.channel)
        try:
            with conn.begin_nested():
                # Told first: the channel's function reads the order's workflow state as it was.
                told = tell(conn, order.order_id) if tell else f"{order.channel}: nothing to tell"
                conn.execute(query_beside(__file__, "order_mark_delivered.sql"), {"o": order.order_id})
        except MarketsyncError as exc:
            errors.append(f"order {order.order_number}: {exc}")
            continue
        settled.append(Settled(order.order_id, order.order_number, order.channel, told))
    return settled, errors
