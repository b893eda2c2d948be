"""Whom a store's alerts and new-order notices reach (ops.notification_routes).

A route sends one topic of one store (`alerts` at or above a severity, or `new_orders`, one notice per
order or a digest every N minutes) by e-mail to an address, through the store's e-mail account (its SMTP
server and sender), or to the store's webhook (its webhook account holds the URL, the vault its signing
secret). A route is refused when the store has no account to send it with, saying how to add one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, text

from marketsync.assets.stores import store_id_for
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside

TOPICS = ("alerts", "new_orders")
VIAS = ("email", "webhook")
SEVERITY_RANK = {"warn": 0, "error": 1}
# One address: local part, @, a domain with a dot; no display name, no list (a route per address).
_ADDRESS = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+")


@dataclass(frozen=True)
class Route:
    route_id: int
    store_id: int
    store: str
    topic: str
    via: str
    recipient: str  # the e-mail address; '' for the webhook
    min_severity: str
    digest_minutes: int
    enabled: bool
    account_id: int | None  # the store's e-mail or webhook account that sends it (None: it has none now)

    def describe(self) -> str:
        what = (f"alerts at {self.min_severity} or above" if self.topic == "alerts" else "new orders"
                + (f", a digest every {self.digest_minutes} min" if self.digest_minutes else ", each order"))
        to = f"e-mail to {self.recipient}" if self.via == "email" else "the store's webhook"
        return f"{self.store}: {what} -> {to}" + ("" if self.enabled else " (disabled)")


def add_route(conn: Connection, store: str, topic: str, via: str, recipient: str = "", *,
              min_severity: str = "warn", digest_minutes: int = 0) -> Route:
    """Add (or change) a route; adding the same store, topic, via and recipient again updates it."""
    if topic not in TOPICS:
        raise MarketsyncError(f"topic must be one of {', '.join(TOPICS)}, not '{topic}'")
    if via not in VIAS:
        raise MarketsyncError(f"a route goes by {' or '.join(VIAS)}, not '{via}'")
    if min_severity not in SEVERITY_RANK:
        raise MarketsyncError(f"severity must be warn or error, not '{min_severity}'")
    if not 0 <= digest_minutes <= 1440:
        raise MarketsyncError("a digest covers 1 to 1440 minutes (0: a notice per order)")
    if digest_minutes and topic != "new_orders":
        raise MarketsyncError("only new-order notices come as a digest; alerts go out as they open and resolve")
    recipient = recipient.strip()
    if via == "email" and not _ADDRESS.fullmatch(recipient):
        raise MarketsyncError(f"an e-mail route needs one address like ops@example.com, not '{recipient}'")
    if via == "webhook":
        recipient = ""
    store_id = store_id_for(conn, store)
    channel = "email" if via == "email" else "webhook"
    if conn.execute(text("SELECT 1 FROM ops.accounts WHERE store_id = :s AND channel = :c AND enabled"),
                    {"s": store_id, "c": channel}).first() is None:
        how = (f"`marketsync account add {store} email --endpoint smtps://HOST:465 --set from_address=ops@YOUR-SHOP` "
               f"and its login with `marketsync credentials set {store} email`") if via == "email" else \
              (f"`marketsync account add {store} webhook --endpoint https://YOUR-RECEIVER/path` and its signing "
               f"secret with `marketsync credentials set {store} webhook`")
        raise MarketsyncError(f"store '{store}' has no enabled {channel} account to send {topic} with: "
                              f"add one with {how}")
    route_id: int = conn.execute(query_beside(__file__, "route_upsert.sql"), {
        "s": store_id, "t": topic, "v": via, "r": recipient, "sev": min_severity, "d": digest_minutes,
    }).scalar_one()
    return next(r for r in list_routes(conn, store) if r.route_id == route_id)


def list_routes(conn: Connection, store: str | None = None) -> list[Route]:
    return [Route(**row) for row in conn.execute(query_beside(__file__, "routes_list.sql"),
                                                 {"store": store, "store_id": None, "topic": None}).mappings()]


def routes_for(conn: Connection, store_id: int, topic: str, severity: str | None = None) -> list[Route]:
    """The enabled routes of the store for `topic` (for alerts: those whose minimum `severity` reaches)."""
    routes = [Route(**row) for row in conn.execute(query_beside(__file__, "routes_list.sql"),
                                                   {"store": None, "store_id": store_id, "topic": topic}).mappings()]
    return [r for r in routes if r.enabled and (severity is None or
                                                SEVERITY_RANK[severity] >= SEVERITY_RANK[r.min_severity])]


def remove_route(conn: Connection, route_id: int) -> bool:
    return bool(conn.execute(text("DELETE FROM ops.notification_routes WHERE route_id = :r"),
                             {"r": route_id}).rowcount)
