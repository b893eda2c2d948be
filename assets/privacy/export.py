"""An access request (GDPR art. 15): one JSON document with everything held about a buyer of one
store, found by their e-mail address: the canonical orders, addresses and items, each order as the
channel sent it, what was written to the channels and the fulfiller about it, exceptions, quarantined
copies and the log entries that quote the buyer. Entries shared with other buyers (a log row about
several orders) are cut to the buyer's part (`buyer_part`). The request is recorded without the
address asked for.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from marketsync.assets.privacy.places import ORDER_PLACES
from marketsync.assets.privacy.requests import close_request, open_request
from marketsync.assets.stores import store_id_for
from marketsync.resources.sql_files import query_beside

# Section -> what it holds, in the document's order; an order's own places say it as places.py does.
_HELD = {p.table: p.what for p in ORDER_PLACES}
SECTIONS = {
    "core.orders": "the orders: numbers, dates, amounts, state, the e-mail address and name given",
    "core.order_addresses": "billing and shipping addresses of the orders",
    "core.order_items": "what was ordered",
    **{table: _HELD[table] for table in ("raw.letzshop_shipments", "raw.channel_orders", "raw.jtl_ffn_payloads",
                                         "ops.outbound_queue", "ops.order_exceptions")},
    "ops.quarantine": "order payloads that could not be read, and records that quote the buyer",
    "ops.sync_log": "errors of imports and pushes that quote the buyer",
    "ops.alerts": "alerts raised for the store that quote the buyer",
}
# Sections whose rows may be about other buyers too: only the parts that quote this one are kept.
SHARED = {"ops.sync_log", "ops.alerts"}


def mentions(value: Any, known: list[str]) -> bool:
    """Whether `value` (any JSON value) contains one of the buyer's values, ignoring case."""
    if isinstance(value, str):
        lowered = value.lower()
        return any(k.lower() in lowered for k in known)
    if isinstance(value, dict):
        return any(mentions(v, known) for v in value.values())
    if isinstance(value, list):
        return any(mentions(v, known) for v in value)
    return False


def buyer_part(value: Any, known: list[str]) -> Any:
    """`value` cut to what quotes the buyer: list elements and object members that do not are left
    out; a string is kept whole (a log line is the smallest part)."""
    if isinstance(value, dict):
        return {k: buyer_part(v, known) for k, v in value.items() if mentions(v, known)}
    if isinstance(value, list):
        return [buyer_part(v, known) for v in value if mentions(v, known)]
    return value


def _rows(conn: Connection, section: str, params: dict, known: list[str]) -> list[Any]:
    rows = conn.execute(query_beside(__file__, f"export_{section}.sql"), params).scalars().all()
    if section in SHARED:
        return [{k: (buyer_part(v, known) if k in ("errors", "message") else v) for k, v in row.items()}
                for row in rows]
    if section == "ops.quarantine":
        # A record that is not a copy of the buyer's own order is cut to its lines that quote them.
        return [{**row, "record": row["record"] if row.pop("whole") else
                 "\n".join(line for line in row["record"].splitlines() if mentions(line, known))}
                for row in rows]
    return list(rows)


def export_buyer(conn: Connection, store: str, email: str, requested_by: str) -> dict:
    """The access-request document for the buyer with `email` in `store`."""
    store_id = store_id_for(conn, store)
    order_ids = [row.order_id for row in conn.execute(
        query_beside(__file__, "buyer_orders.sql"), {"store_id": store_id, "email": email.strip()})]
    known = sorted(set(conn.execute(query_beside(__file__, "buyer_values.sql"),
                                    {"order_ids": order_ids}).scalar_one()) | {email.strip()})
    request_id = open_request(conn, store_id, "export", requested_by)
    params = {"order_ids": order_ids, "store_id": store_id, "known": known}
    sections = {section: _rows(conn, section, params, known) for section in SECTIONS}
    close_request(conn, request_id, len(order_ids), {s: len(rows) for s, rows in sections.items()})
    return {
        "subject": {"store": store, "email": email.strip()},
        "generated_at": datetime.now(UTC).isoformat(),
        "request_id": request_id,
        "contents": [{"section": s, "holds": SECTIONS[s], "entries": len(rows)} for s, rows in sections.items()],
        "sections": sections,
    }
