"""Orders to the warehouse and tracking back, with no human step:

1. `queue_outbounds`: every confirmed marketplace order of a store that ships through JTL-FFN becomes an
   FFN outbound, queued on the FFN account's outbound queue; merchantOutboundNumber is the order's
   shipment number (or order number), so the queue's idempotency key and FFN's own duplicate check both
   make it exactly once.
2. `CreateOutboundHandler` sends it (the queue retries it; an attempt whose answer was lost is looked up
   by its number before it is ever sent again) and records core.fulfillment_outbounds.
3. `queue_tracking`: the warehouse's first shipping notification of an outbound marks the marketplace
   order shipped and queues its tracking (Letzshop: set tracking) through `ship_order`; a later
   notification of a partial shipment is kept, logged, and not sent again (a marketplace shipment has
   one tracking number).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, text

from marketsync.assets import outbound_queue
from marketsync.assets.accounts import Account
from marketsync.assets.orders.actions import order_by_id, ship_order
from marketsync.assets.outbound_queue import OutcomeUnknown, PermanentError, RetryableError
from marketsync.resources.jtl_ffn import TOKEN_URL, JtlFfnApi, JtlFfnError, JtlFfnResource
from marketsync.resources.sql_files import query_beside

OPERATION = "create_outbound"


def outbound_payload(lines: list[Any], warehouse_id: str) -> dict:
    """The FFN outbound for one order, from its rows of orders_to_ship.sql."""
    first = lines[0]
    address = {"firstname": first.first_name, "lastname": first.last_name, "company": first.company,
               "street": " ".join(p for p in (first.street_name, first.street_number) if p),
               "zip": first.zip_code, "city": first.city, "country": first.country_iso, "email": first.customer_email,
               "phone": first.phone}
    return {
        "merchantOutboundNumber": first.merchant_outbound_number,
        "warehouseId": warehouse_id,
        "currency": first.currency,
        "salesChannel": first.channel,
        "externalNumber": first.order_number,
        "orderValue": float(first.total) if first.total is not None else None,
        "shippingAddress": {k: v for k, v in address.items() if v},
        "items": [{"jfsku": line.jfsku, "merchantSku": line.sku, "name": line.title, "quantity": int(line.quantity),
                   "price": float(line.unit_price) if line.unit_price is not None else None}
                  for line in lines],
    }


def queue_outbounds(conn: Connection, ffn_account: Account, triggered_by: str = "jtl_ffn") -> dict[str, int]:
    """Queue an FFN outbound for every confirmed order of the FFN account's store not handed over yet.
    An order with a unit whose SKU the warehouse does not know is held back (counted as `unknown_sku`):
    FFN would refuse it, and it ships as soon as the product exists there."""
    warehouse_id = ffn_account.setting("warehouse_id")
    if not warehouse_id:
        warehouse_id = conn.execute(query_beside(__file__, "fullest_warehouse.sql"),
                                    {"a": ffn_account.account_id}).scalar()
    rows = conn.execute(query_beside(__file__, "orders_to_ship.sql"),
                        {"store_id": ffn_account.store_id, "ffn_account_id": ffn_account.account_id}).all()
    counts = {"queued": 0, "unknown_sku": 0}
    for order_id, lines in groupby(rows, key=lambda r: r.order_id):
        lines = list(lines)
        if any(line.jfsku is None for line in lines) or not warehouse_id:
            counts["unknown_sku"] += 1
            continue
        payload = outbound_payload(lines, warehouse_id)
        number = payload["merchantOutboundNumber"]
        outbound_queue.enqueue(conn, ffn_account.account_id, OPERATION, payload, order_id=order_id,
                               triggered_by=triggered_by, key_parts=(number,))
        conn.execute(
            query_beside(__file__, "outbound_record_queued.sql"),
            {"a": ffn_account.account_id, "n": number, "o": order_id})
        counts["queued"] += 1
    return counts


def _queue_error(exc: JtlFfnError, write: bool) -> Exception:
    """How the queue should treat a failed call: a create that failed on the server's side or on the
    way may have been applied (so it is looked up before it is sent again)."""
    if write and exc.kind in ("server", "unreachable"):
        return OutcomeUnknown(str(exc))
    if exc.kind in ("rate_limited", "busy", "server", "unreachable"):
        return RetryableError(str(exc), retry_after=exc.retry_after)
    return PermanentError(str(exc))


class CreateOutboundHandler:
    """Sends one queued outbound to FFN (see the module docstring)."""

    def __init__(self, api: JtlFfnApi):
        self.api = api
        self._sent: dict[int, dict] = {}  # queue item -> FFN's answer, for on_success

    def send(self, item) -> dict:
        try:
            outbound = self.api.create_outbound(item.payload)
        except JtlFfnError as exc:
            raise _queue_error(exc, write=True) from None
        answer = {"outboundId": outbound.get("outboundId"), "status": outbound.get("status")}
        self._sent[item.outbound_id] = answer
        return answer

    def already_applied(self, item) -> bool:
        try:
            return self.api.find_outbound(item.payload["merchantOutboundNumber"]) is not None
        except JtlFfnError as exc:
            raise _queue_error(exc, write=False) from None

    def on_success(self, conn: Connection, item) -> None:
        number = item.payload["merchantOutboundNumber"]
        response = self._sent.pop(item.outbound_id, None) or {}
        outbound_id = response.get("outboundId")
        if outbound_id is None:  # applied by an attempt whose answer was lost: look it up
            found = self.api.find_outbound(number) or {}
            outbound_id, response = found.get("outboundId"), found
        conn.execute(query_beside(__file__, "outbound_record_created.sql"),
                     {"i": outbound_id, "s": response.get("status") or "Pending", "a": item.account_id, "n": number})


def jtl_ffn_handlers(api: JtlFfnApi) -> dict:
    return {OPERATION: CreateOutboundHandler(api)}


def queue_tracking(conn: Connection, ffn_account: Account, triggered_by: str = "jtl_ffn") -> dict[str, int]:
    """Hand each new shipment's tracking to its marketplace order (see the module docstring)."""
    counts = {"tracking_queued": 0, "additional_shipments": 0}
    shipments = conn.execute(query_beside(__file__, "shipments_to_track.sql"),
                             {"account_id": ffn_account.account_id}).all()
    for shipment in shipments:
        order = order_by_id(conn, shipment.order_id)
        if order.tracking_number and order.sync_status == "shipped":
            counts["additional_shipments"] += 1  # a partial shipment's next parcel: the order already has tracking
        elif shipment.tracking_number and shipment.carrier:
            ship_order(conn, order, shipment.tracking_number, shipment.carrier, triggered_by=triggered_by)
            if shipment.tracking_url:
                conn.execute(text("UPDATE core.orders SET tracking_url = :u WHERE order_id = :o"),
                             {"u": shipment.tracking_url, "o": order.order_id})
            counts["tracking_queued"] += 1
        conn.execute(query_beside(__file__, "shipment_tracking_queued.sql"),
                     {"a": ffn_account.account_id, "n": shipment.notification_id})
    return counts


def application_resource(**client) -> JtlFfnResource:
    """The JTL-FFN resource of the installation's OAuth client; MARKETSYNC_FFN_TOKEN_URL overrides JTL's
    token endpoint (the sandbox)."""
    return JtlFfnResource(**client, token_url=os.environ.get("MARKETSYNC_FFN_TOKEN_URL") or TOKEN_URL)


@contextmanager
def open_outbound(warehouse, vault, jtl_ffn: JtlFfnResource, account) -> Iterator[dict]:
    """The outbound handlers of one JTL-FFN account."""
    with jtl_ffn.account_session(warehouse.engine, vault, account.account_id, base_url=account.endpoint) as api:
        yield jtl_ffn_handlers(api)
