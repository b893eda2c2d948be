"""What Amazon is told when a fully digital order reached its buyer: nothing it documents.

The Orders API confirms a seller's shipment (confirmShipment) only with a package that names a carrier
code and a tracking number (PackageDetail requires both), and no documented operation marks an order
delivered by download. Inventing a tracking number would mislead the buyer, so nothing is sent: an alert
(one per Amazon account while open, counting the orders) asks the merchant to confirm the shipment in
Seller Central, where Amazon lets a seller confirm without tracking.
"""
from __future__ import annotations

from sqlalchemy import Connection

from marketsync.assets.alerts import raise_alert
from marketsync.assets.orders.actions import order_by_id

ALERT_SOURCE = "digital_delivery_unconfirmed"


def ask_merchant_to_confirm(conn: Connection, order_id: int) -> str:
    order = order_by_id(conn, order_id)
    raise_alert(conn, f"Amazon order {order.order_number} (store {order.store}) was delivered by download: "
                      f"Amazon's API confirms a shipment only with a carrier and a tracking number, so confirm "
                      f"its shipment in Seller Central", source=ALERT_SOURCE, account_id=order.account_id)
    return "Amazon: nothing sent (no documented confirmation of a download); the merchant is alerted"
