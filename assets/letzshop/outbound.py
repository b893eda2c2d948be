"""The Letzshop side of the outbound queue: confirm, reject and tracking writes, and the re-reads that
tell whether an earlier attempt whose answer was lost took effect.

Letzshop has no idempotency keys, so exactly-once rests on the queue: a write whose outcome is unknown
is re-read (unit states, tracking) before it is ever sent again.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

from marketsync.assets.letzshop.connection import letzshop_session
from marketsync.assets.outbound_queue import OutcomeUnknown, PermanentError, RetryableError
from marketsync.resources.letzshop import LetzshopApi, LetzshopError
from marketsync.resources.letzshop.client import UNIT_STATE_FOR
from marketsync.resources.sql_files import query_beside


def _queue_error(exc: LetzshopError, write: bool) -> Exception:
    """How the queue should treat a failed call. A server error on a write may have been applied."""
    if exc.kind == "outcome_unknown" or (write and exc.kind == "server"):
        return OutcomeUnknown(str(exc))
    if exc.kind in ("rate_limited", "server", "unreachable"):
        return RetryableError(str(exc), retry_after=exc.retry_after)
    return PermanentError(str(exc))


class _LetzshopHandler:
    def __init__(self, api: LetzshopApi):
        self.api = api

    def _shipment(self, item) -> dict | None:
        try:
            return self.api.find_shipment(item.payload["shipment_id"])
        except LetzshopError as exc:
            raise _queue_error(exc, write=False) from None


class UnitDecisionHandler(_LetzshopHandler):
    """Confirms or declines inventory units (the `confirm` and `reject` operations)."""

    def send(self, item) -> dict:
        decisions = {unit: bool(ok) for unit, ok in item.payload["decisions"].items()}
        try:
            answer = self.api.confirm_units(decisions, idempotency_key=item.idempotency_key)
        except LetzshopError as exc:
            raise _queue_error(exc, write=True) from None
        return {"inventoryUnits": answer.get("inventoryUnits") or []}

    def already_applied(self, item) -> bool:
        shipment = self._shipment(item)
        if shipment is None:
            return False
        states = {u["id"]: u["state"] for u in shipment.get("inventoryUnits") or []}
        return all(states.get(unit) == UNIT_STATE_FOR[bool(ok)] for unit, ok in item.payload["decisions"].items())

    def on_success(self, conn: Connection, item) -> None:
        """Reflect the channel's new unit states and the order's status locally."""
        decisions = item.payload["decisions"]
        for ok in (True, False):
            units = [u for u, d in decisions.items() if bool(d) is ok]
            if units:
                conn.execute(query_beside(__file__, "units_set_state.sql"),
                             {"s": UNIT_STATE_FOR[ok], "o": item.order_id, "u": units})
        conn.execute(query_beside(__file__, "order_status_from_units.sql"), {"o": item.order_id})


class TrackingHandler(_LetzshopHandler):
    """Sets the tracking code and carrier of a shipment."""

    def send(self, item) -> dict:
        p = item.payload
        try:
            answer = self.api.set_tracking(p["shipment_id"], p["code"], p["provider"],
                                           idempotency_key=item.idempotency_key)
        except LetzshopError as exc:
            raise _queue_error(exc, write=True) from None
        return {"shipment": answer.get("shipment")}

    def already_applied(self, item) -> bool:
        shipment = self._shipment(item)
        tracking = (shipment or {}).get("tracking") or {}
        return tracking.get("code") == item.payload["code"]

    def on_success(self, conn: Connection, item) -> None:
        return None


def letzshop_handlers(api: LetzshopApi) -> dict:
    decision = UnitDecisionHandler(api)
    return {"confirm": decision, "reject": decision, "set_tracking": TrackingHandler(api)}


@contextmanager
def open_outbound(warehouse, vault, letzshop, account) -> Iterator[dict]:
    """The outbound handlers of one Letzshop account (its Channel declaration names this)."""
    with letzshop_session(warehouse, vault, letzshop, account) as api:
        yield letzshop_handlers(api)
