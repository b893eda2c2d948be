"""The notices that tell people about alerts, queued as outbound writes of the store's e-mail or webhook
account (so they are retried with backoff, dead-lettered when refused, and sent once: each carries the
idempotency key of its notice and route).

Per condition, notices follow episodes (ops.alert_notices):

- `opened` when an alert of the condition is open and no episode is running;
- `escalated` when its alert turned from warn to error during the episode and nobody acknowledged it;
- `resolved` once no alert of the condition is open and the last one closed at least the damping time
  ago (`DAMPING_SECONDS`, 15 minutes by default).

A condition that flaps (closes and opens again within the damping time) stays in one episode: one
notice when it first opened, one resolution when it has stayed clear. One that opens and clears between
two evaluations sends nothing. Each notice goes to the store's routes for alerts whose minimum severity
it reaches; alerts without a store (a job of the whole deployment) are listed (`marketsync alerts list`,
/status) but have no route.

Every notice, of an alert or a new order, is rendered here (`render`): the e-mail subject and text, and
the webhook's JSON document. Payloads hold the facts (ids, numbers, the alert's worded message), never a
secret or a buyer's personal data.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from marketsync.assets.alerts.routes import Route, routes_for
from marketsync.assets.outbound_queue import QueuedItem, enqueue
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside

DAMPING_SECONDS = int(os.environ.get("MARKETSYNC_ALERT_DAMPING_SECONDS", "900"))
# The outbound operations that send a notice (the e-mail and webhook channels handle them).
EMAIL_NOTICE = "send_notice"
WEBHOOK_NOTICE = "post_notice"
NOTICE_OPERATIONS = {"email": EMAIL_NOTICE, "webhook": WEBHOOK_NOTICE}
_LOCK = "alert_notices"


@dataclass
class NoticeSummary:
    notices: int = 0
    queued: int = 0
    by_event: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        if not self.notices:
            return "no notice due"
        events = ", ".join(f"{n} {event}" for event, n in sorted(self.by_event.items()))
        return f"{self.notices} notice(s) ({events}), {self.queued} queued to routes"


def queue_due_notices(conn: Connection, *, damping_seconds: int = DAMPING_SECONDS,
                      triggered_by: str = "alerts") -> NoticeSummary:
    """Record every notice due now and queue it to the store's routes, in the caller's transaction. Two
    evaluations at once take turns (an advisory lock), so a notice is never recorded twice."""
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": _LOCK})
    summary = NoticeSummary()
    for due in conn.execute(query_beside(__file__, "notices_due.sql"), {"damping": damping_seconds}).mappings():
        notice_id: int = conn.execute(query_beside(__file__, "notice_record.sql"), {
            "k": due["condition_key"], "a": due["alert_id"], "e": due["event"], "sev": due["severity"],
        }).scalar_one()
        routes = routes_for(conn, due["store_id"], "alerts", due["severity"]) if due["store_id"] else []
        payload = alert_payload(notice_id, dict(due))
        queued = sum(queue_to_route(conn, route, payload, ("alert_notice", notice_id, route.route_id),
                                    triggered_by=triggered_by) is not None for route in routes)
        conn.execute(text("UPDATE ops.alert_notices SET routes = :n WHERE notice_id = :id"),
                     {"n": queued, "id": notice_id})
        summary.notices += 1
        summary.queued += queued
        summary.by_event[due["event"]] = summary.by_event.get(due["event"], 0) + 1
    return summary


def queue_to_route(conn: Connection, route: Route, payload: dict[str, Any], key_parts: tuple,
                   triggered_by: str = "alerts", order_id: int | None = None) -> QueuedItem | None:
    """Queue `payload` to go out by `route` (its store's e-mail or webhook account); None when the store
    has no such account any more (the route then waits for one)."""
    if route.account_id is None:
        return None
    body = {**payload, "to": route.recipient} if route.via == "email" else payload
    return enqueue(conn, route.account_id, NOTICE_OPERATIONS[route.via], body, order_id=order_id,
                   triggered_by=triggered_by, key_parts=key_parts)


def alert_payload(notice_id: int, due: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "alert", "notice_id": notice_id, "event": due["event"], "alert_id": due["alert_id"],
            "severity": due["severity"], "store": due["store"], "channel": due["channel"],
            "source": due["source"], "message": due["message"],
            "opened_at": _iso(due["created_at"]), "closed_at": _iso(due["closed_at"])}


def test_payload(store: str, route_id: int, at: datetime) -> dict[str, Any]:
    return {"kind": "test", "store": store, "route_id": route_id, "at": _iso(at)}


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value else None


def _money(value: Any, currency: str | None) -> str:
    return f"{Decimal(str(value)):.2f} {currency or ''}".strip() if value is not None else "-"


# ---------------------------------------------------------------- how a notice reads
def render(payload: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(e-mail subject, e-mail text, webhook JSON document) of a queued notice."""
    kind = payload.get("kind")
    if kind == "alert":
        return _render_alert(payload)
    if kind == "new_order":
        return _render_orders(payload, [payload["order"]], "order.created")
    if kind == "new_orders_digest":
        return _render_orders(payload, payload.get("orders") or [], "orders.digest")
    if kind == "test":
        subject = f"[marketsync] test notice for store {payload['store']}"
        body = (f"This is a test notice of store {payload['store']} (route {payload['route_id']}), sent at "
                f"{payload['at']}.\nIf you read this, alerts and new-order notices reach you this way.\n")
        return subject, body, {"type": "test", "store": payload["store"], "route_id": payload["route_id"],
                               "sent_at": payload["at"]}
    raise MarketsyncError(f"a notice of unknown kind '{kind}' cannot be rendered")


def _render_alert(p: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    event = p["event"]
    where = "/".join(x for x in (p.get("store"), p.get("channel")) if x) or "deployment"
    word = {"opened": "ALERT", "escalated": "ESCALATED", "resolved": "RESOLVED"}[event]
    # The message says where and what ("demo/letzshop: ... failed: ..."); a subject line holds its start.
    headline = p["message"].splitlines()[0] if p["message"] else f"{where}: {p['source']}"
    subject = f"[marketsync] {word} {p['severity']}: {headline[:140]}"
    lines = [f"{word} ({p['severity']}) for {where}", "", p["message"], "",
             f"opened at {p['opened_at']}"]
    if event == "resolved":
        lines.append(f"resolved: clear since {p['closed_at']}")
    else:
        lines.append(f"acknowledge with `marketsync alerts ack {p['alert_id']}`; it resolves when its cause clears")
    document = {"type": f"alert.{event}", "alert_id": p["alert_id"], "severity": p["severity"],
                "store": p.get("store"), "channel": p.get("channel"), "source": p["source"],
                "message": p["message"], "opened_at": p["opened_at"], "closed_at": p.get("closed_at")}
    return subject, "\n".join(lines) + "\n", document


def _render_orders(p: dict[str, Any], orders: list[dict[str, Any]], kind: str) -> tuple[str, str, dict[str, Any]]:
    store = p["store"]
    if kind == "order.created":
        order = orders[0]
        total = _money(order["total"], order["currency"])
        subject = f"[marketsync] new {order['channel']} order {order['order_number']} ({total})"
    else:
        subject = (f"[marketsync] {len(orders)} new order(s) for store {store} "
                   f"({p['window_start']} to {p['window_end']})")
    lines: list[str] = []
    for order in orders:
        lines.append(f"{order['channel']} order {order['order_number']}: {_money(order['total'], order['currency'])}")
        lines.extend(f"  {line['quantity']} x {line['sku'] or '-'} {line['title'] or ''}".rstrip()
                     for line in order["lines"])
    document: dict[str, Any] = {"type": kind, "store": store, "orders": orders}
    if kind == "orders.digest":
        document.update(window_start=p["window_start"], window_end=p["window_end"])
    return subject, "\n".join(lines) + "\n", document
