"""What eBay is told when a fully digital order reached its buyer: its line items are fulfilled.

eBay's createShippingFulfillment documents the carrier and the tracking number as optional (only the
line items are required), so a download is a fulfillment without tracking; eBay then reports the
order FULFILLED. The write goes through the outbound queue like tracking does (assets/ebay/outbound.py).
"""
from __future__ import annotations

from sqlalchemy import Connection

from marketsync.assets.orders.actions import order_by_id
from marketsync.assets.outbound_queue import enqueue
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside

FULFIL_DOWNLOAD = "fulfil_download"


def fulfil_digital_lines(conn: Connection, order_id: int) -> str:
    order = order_by_id(conn, order_id)
    lines = [{"lineItemId": r.line_item_id, "quantity": int(r.quantity)}
             for r in conn.execute(query_beside(__file__, "digital_lines.sql"), {"o": order_id})]
    if not lines:
        raise MarketsyncError(f"eBay order {order.order_number} has no digital line items to fulfil")
    item = enqueue(conn, order.account_id, FULFIL_DOWNLOAD,
                   {"shipment_id": order.channel_shipment_id, "line_items": lines},
                   order_id=order_id, triggered_by="digital_delivery")
    return f"eBay: line items fulfilled without tracking, queued (outbound {item.outbound_id})"
