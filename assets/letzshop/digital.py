"""What Letzshop is told when a fully digital order reached its buyer: that its shipment is confirmed.

Letzshop's shipment states end at `confirmed` (every unit confirmed available or not), and its tracking
names a carrier's parcel, which a download does not have. The keys are only bought for a confirmed
order, so by the time the buyer has them the confirmation has gone out (or is queued); an order that
somehow was not confirmed gets its confirmation queued now.
"""
from __future__ import annotations

from sqlalchemy import Connection

from marketsync.assets.orders.actions import confirm_order, order_by_id


def confirm_digital_delivery(conn: Connection, order_id: int) -> str:
    order = order_by_id(conn, order_id)
    if order.sync_status in ("confirming", "confirmed", "shipped"):
        return "Letzshop: shipment confirmed (a download has no tracking to set)"
    item = confirm_order(conn, order, triggered_by="digital_delivery")
    return f"Letzshop: shipment confirmation queued (outbound {item.outbound_id})"
