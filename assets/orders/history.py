"""An order's status history (core.order_status_history): every change of its cross-channel status, its
channel state and our sync status, with what caused it and who. A trigger on core.orders writes it,
whichever code changed the order; the writers name themselves through resources/session_context.py."""
from __future__ import annotations

from sqlalchemy import Connection

from marketsync.resources.sql_files import query_beside


def order_timeline(conn: Connection, order_id: int) -> list[dict]:
    """The order's changes, oldest first: changed_at, field, old_value, new_value, cause, actor."""
    return [dict(row) for row in conn.execute(query_beside(__file__, "order_timeline.sql"),
                                              {"o": order_id}).mappings()]


def describe(change: dict) -> str:
    """One line of `marketsync orders show`: `2026-12-06 10:00  sync_status  imported -> confirmed  (...)`."""
    moved = f"{change['old_value'] or '-'} -> {change['new_value'] or '-'}"
    by = f"; {change['actor']}" if change["actor"] else ""
    return f"{change['changed_at']:%Y-%m-%d %H:%M:%S}  {change['field']:<13}  {moved:<28}  ({change['cause']}{by})"
