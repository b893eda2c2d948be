"""The Amazon side of the outbound queue: tracking becomes a confirmShipment of the whole order.

The package reference is derived from our order and tracking number, so any repeat (a retry after a
lost answer, a second drain) edits the same package instead of adding one: Amazon's own rule makes the
write idempotent, and `already_applied` reads the order's packages to tell."""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Connection

from marketsync.assets.amazon.connection import amazon_session
from marketsync.assets.outbound_queue import OutcomeUnknown, PermanentError, RetryableError
from marketsync.resources.amazon_sp_api import AmazonError, AmazonSpApi

SET_TRACKING = "set_tracking"  # the operation order_actions.set_tracking queues for every channel


def package_reference(order_id: str, tracking_number: str) -> str:
    """A positive number, the same for the same order and tracking number."""
    digest = hashlib.sha256(f"{order_id}:{tracking_number}".encode()).hexdigest()
    return str(int(digest[:12], 16) % 10**12 + 1)


def _queue_error(exc: AmazonError) -> Exception:
    if exc.kind == "unreachable":
        return OutcomeUnknown(str(exc))
    if exc.retryable:
        return RetryableError(str(exc))
    return PermanentError(str(exc))


class ConfirmShipmentHandler:
    def __init__(self, api: AmazonSpApi):
        self.api = api

    def send(self, item) -> dict:
        order_id, payload = item.payload["shipment_id"], item.payload
        reference = package_reference(order_id, payload["code"])
        try:
            order = self.api.get_order(order_id)
            items = [{"orderItemId": line["orderItemId"], "quantity": line["quantityOrdered"]}
                     for line in order.get("orderItems") or []]
            marketplace = (order.get("salesChannel") or {}).get("marketplaceId")
            self.api.confirm_shipment(order_id, reference, payload["provider"], payload["code"],
                                      datetime.now(UTC), items, marketplace)
        except AmazonError as exc:
            raise _queue_error(exc) from None
        return {"packageReferenceId": reference}

    def already_applied(self, item) -> bool:
        try:
            order = self.api.get_order(item.payload["shipment_id"])
        except AmazonError as exc:
            raise _queue_error(exc) from None
        reference = package_reference(item.payload["shipment_id"], item.payload["code"])
        return any(str(p.get("packageReferenceId")) == reference for p in order.get("packages") or [])

    def on_success(self, conn: Connection, item) -> None:
        """The order was marked shipped when the tracking was queued (order_actions.ship_order)."""


def amazon_handlers(api: AmazonSpApi) -> dict:
    return {SET_TRACKING: ConfirmShipmentHandler(api)}


@contextmanager
def open_outbound(warehouse, vault, amazon, account) -> Iterator[dict]:
    """The outbound handlers of one Amazon account, through the application client `amazon`."""
    with amazon_session(amazon, warehouse.engine, vault, account) as api:
        yield amazon_handlers(api)
