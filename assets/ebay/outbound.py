"""The eBay side of the outbound queue: tracking becomes a shipping fulfillment of the whole order.

eBay does not deduplicate fulfillments, so exactly-once rests on reading first: the client's
`ensure_shipping_fulfillment` looks for a fulfillment with the same tracking number before creating
one and again after any attempt whose answer was lost, and `already_applied` answers the queue's
question the same way."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

from marketsync.assets.ebay.connection import ebay_session
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


def ebay_handlers(api: EbayApi) -> dict:
    return {SET_TRACKING: ShippingFulfillmentHandler(api)}


@contextmanager
def open_outbound(warehouse, vault, ebay, account) -> Iterator[dict]:
    """The outbound handlers of one eBay account, through the application client `ebay`."""
    with ebay_session(ebay, warehouse.engine, vault, account) as api:
        yield ebay_handlers(api)
