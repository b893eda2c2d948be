"""Erasure on a buyer's request (GDPR art. 17): every place their personal data is held, in one
transaction. What accounting needs stays (order ids, dates, amounts, items, country); the request is
recorded without the address asked for. The orders stay erased: a re-import lands without it.

Writes still queued for the buyer's orders (a shipment to hand to the fulfiller, a confirmation) would
lose what they need; the erasure refuses them unless told to cancel them (`cancel_queued`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection

from marketsync.assets.privacy.forget import forget_orders
from marketsync.assets.privacy.requests import close_request, open_request
from marketsync.assets.stores import store_id_for
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside


class ErasureRefused(MarketsyncError):
    """Writes are still queued for the buyer's orders."""


@dataclass
class Erasure:
    request_id: int
    orders: list[str]  # order numbers (not personal data)
    writes_cancelled: int = 0
    rows_changed: dict[str, int] = field(default_factory=dict)


def erase_buyer(conn: Connection, store: str, email: str, requested_by: str, *,
                cancel_queued: bool = False) -> Erasure:
    """Erase the personal data of the buyer with `email` in `store`; an address with no orders is
    still recorded as a request (with 0 orders), so the answer to the buyer can say so."""
    store_id = store_id_for(conn, store)
    found = conn.execute(query_beside(__file__, "buyer_orders.sql"),
                         {"store_id": store_id, "email": email.strip()}).all()
    queued = [row.order_number for row in found if row.writes_queued]
    if queued and not cancel_queued:
        raise ErasureRefused(
            f"writes to the channels are still queued for order(s) {', '.join(queued)} of this buyer; "
            "let them finish (marketsync outbound list), or erase now with --cancel-queued")
    order_ids = [row.order_id for row in found]
    request_id = open_request(conn, store_id, "erasure", requested_by)
    erasure = Erasure(request_id, [row.order_number for row in found])
    if queued:
        erasure.writes_cancelled = conn.execute(query_beside(__file__, "cancel_queued_writes.sql"),
                                                {"order_ids": order_ids}).rowcount
    erasure.rows_changed = dict(forget_orders(conn, order_ids, "erasure", sweep_store=store_id,
                                               also_known=(email.strip(),)))
    close_request(conn, request_id, len(order_ids), erasure.rows_changed)
    return erasure
