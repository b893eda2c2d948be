"""New-order notices: per store, an e-mail and/or a webhook call when orders arrive from any channel.

`notify_new_orders` runs in the follow-up's transaction that marks the orders followed up
(assets/orders/followup.py), so each order is notified exactly once whatever the channel, whatever runs
at once: the mark and the queued notices commit together, and a notice's idempotency key (the order and
the route) makes queueing it twice a no-op. Orders placed more than MAX_AGE_HOURS ago (an account's
first import brings its history) are not news and are not notified. A route with a digest collects the
orders of each window of N minutes into one queued notice, due when its window ends; an order that
arrives after its window's digest went out joins the next window's.
"""
from __future__ import annotations

import math
import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from marketsync.assets.alerts.notices import NOTICE_OPERATIONS, queue_to_route
from marketsync.assets.alerts.routes import Route, routes_for
from marketsync.assets.outbound_queue import extend_or_enqueue
from marketsync.resources.sql_files import query_beside

# Orders placed longer ago than this are not notified (an account's first import brings its history);
# a deployment that imports late (a channel that reports orders days after they were placed) raises it.
MAX_AGE_HOURS = float(os.environ.get("MARKETSYNC_NEW_ORDER_MAX_AGE_HOURS", "48"))
# How many later windows an order tries when the digests ahead of it already went out (each attempt is
# the next window; two are enough unless a window is claimed at the very moment it is extended).
_WINDOW_TRIES = 3


def order_summaries(conn: Connection, order_ids: Sequence[int]) -> list[dict[str, Any]]:
    """What a notice says of each order: number, channel, total and currency, and its lines (SKU, title,
    quantity). Nothing about the buyer."""
    return [dict(row) for row in conn.execute(query_beside(__file__, "new_order_summaries.sql"),
                                              {"ids": list(order_ids), "max_age_hours": MAX_AGE_HOURS}).mappings()]


def notify_new_orders(conn: Connection, store_id: int, order_ids: Sequence[int], *,
                      now: datetime | None = None, triggered_by: str = "followup") -> int:
    """Queue the new-order notices of `order_ids` (orders of store `store_id`) to the store's routes;
    returns how many notices were queued or extended. In the caller's transaction."""
    if not order_ids:
        return 0
    routes = routes_for(conn, store_id, "new_orders")
    if not routes:
        return 0
    orders = order_summaries(conn, order_ids)
    if not orders:
        return 0
    now = now or conn.exec_driver_sql("SELECT now()").scalar_one()
    queued = 0
    for route in routes:
        if route.account_id is None:
            continue
        if route.digest_minutes:
            queued += _add_to_digest(conn, route, orders, now, triggered_by)
            continue
        for order in orders:
            payload = {"kind": "new_order", "store": route.store, "order": order}
            queued += queue_to_route(conn, route, payload, ("new_order", order["order_id"], route.route_id),
                                     triggered_by=triggered_by, order_id=order["order_id"]) is not None
    return queued


def _add_to_digest(conn: Connection, route: Route, orders: list[dict[str, Any]], now: datetime,
                   triggered_by: str) -> int:
    width = route.digest_minutes * 60
    window = math.floor(now.timestamp() / width)
    for _ in range(_WINDOW_TRIES):
        start = datetime.fromtimestamp(window * width, UTC)
        end = start + timedelta(seconds=width)
        payload: dict[str, Any] = {"kind": "new_orders_digest", "store": route.store, "orders": orders,
                                   "window_start": start.isoformat(timespec="minutes"),
                                   "window_end": end.isoformat(timespec="minutes")}
        if route.via == "email":
            payload["to"] = route.recipient
        if extend_or_enqueue(conn, route.account_id, NOTICE_OPERATIONS[route.via], payload, list_field="orders",
                             key_parts=("new_orders_digest", route.route_id, window), due_at=end,
                             triggered_by=triggered_by):
            return 1
        window += 1  # that window's digest is already on its way: the next one takes these orders
    return 0
