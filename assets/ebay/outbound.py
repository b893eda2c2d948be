"""The eBay side of the outbound queue: tracking becomes a shipping fulfillment of the whole order; a
fully digital order's download becomes a fulfillment of its digital line items without tracking.

eBay does not deduplicate fulfillments, so exactly-once rests on reading first: the client's
`ensure_shipping_fulfillment` looks for a fulfillment with the same tracking number before creating
one and again after any attempt whose answer was lost, and `already_applied` answers the queue's
question the same way. A download is looked up by its line items: once the order's fulfillments ship
every unit of them, it is done."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

from marketsync.assets.ebay.connection import ebay_session
from marketsync.assets.ebay.digital import FULFIL_DOWNLOAD
from marketsync.assets.outbound_queue import OutcomeUnknown, PermanentError, RetryableError
from marketsync.resources.ebay import EbayApi, EbayError, tracking_key

SET_TRACKING = "set_tracking"  # the operation order_actions.set_tracking queues for every channel


def _queue_error(exc: EbayError) -> Exception:
    if exc.outcome_unknown:
        return OutcomeUnknown(str(exc))
    if exc.retryable:
        return RetryableError(str(exc), retry_after=exc.retry_after)
    return PermanentError(str(exc))


class ShippingFulfillmentHandler:
    def __init__(self, api: EbayApi):
        self.api = api

    def send(self, item) -> dict:
        order_id, payload = item.payload["shipment_id"], item.payload
        try:
            order = self.api.get_order(order_id)
            lines = [{"lineItemId": line["lineItemId"], "quantity": line["quantity"]}
                     for line in order.get("lineItems") or []]
            fulfillment_id = self.api.ensure_shipping_fulfillment(order_id, lines, payload["provider"], payload["code"])
        except EbayError as exc:
            raise _queue_error(exc) from None
        return {"fulfillmentId": fulfillment_id}

    def already_applied(self, item) -> bool:
        try:
            fulfillments = self.api.shipping_fulfillments(item.payload["shipment_id"])
        except EbayError as exc:
            raise _queue_error(exc) from None
        wanted = tracking_key(item.payload["code"])
        return any(tracking_key(f.get("shipmentTrackingNumber") or "") == wanted for f in fulfillments)

    def on_success(self, conn: Connection, item) -> None:
        """The order was marked shipped when the tracking was queued (order_actions.ship_order)."""


class DownloadFulfillmentHandler:
    """The `fulfil_download` operation (assets/ebay/digital.py): the digital line items of an order
    delivered by download, fulfilled without tracking."""

    def __init__(self, api: EbayApi):
        self.api = api

    def send(self, item) -> dict:
        try:
            fulfillment_id = self.api.ensure_lines_fulfilled(item.payload["shipment_id"], item.payload["line_items"])
        except EbayError as exc:
            raise _queue_error(exc) from None
        return {"fulfillmentId": fulfillment_id}

    def already_applied(self, item) -> bool:
        try:
            return self.api.lines_fulfilled(item.payload["shipment_id"], item.payload["line_items"])
        except EbayError as exc:
            raise _queue_error(exc) from None

    def on_success(self, conn: Connection, item) -> None:
        """The order was recorded as fulfilled when the write was queued (assets/digital/delivered.py)."""


def ebay_handlers(api: EbayApi) -> dict:
    return {SET_TRACKING: ShippingFulfillmentHandler(api), FULFIL_DOWNLOAD: DownloadFulfillmentHandler(api)}


@contextmanager
def open_outbound(warehouse, vault, ebay, account) -> Iterator[dict]:
    """The outbound handlers of one eBay account, through the application client `ebay`."""
    with ebay_session(ebay, warehouse.engine, vault, account) as api:
        yield ebay_handlers(api)
