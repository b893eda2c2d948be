"""Alerts in ops.alerts, where the CLI (`marketsync logs`) and on-call look.

A store account that keeps failing raises one alert per failure streak: the first failure opens it,
later ones count on it (occurrences, last_message, last_seen_at), and the account's next successful
import closes it (closed_at), so the next failure opens a new one.
"""
from __future__ import annotations

from sqlalchemy import Connection, text

from marketsync.assets.accounts import mark_synced
from marketsync.resources.sql_files import query_beside

RUN_FAILURE = "run_failure"
MAX_MESSAGE_CHARS = 2000


def raise_alert(conn: Connection, message: str, *, source: str = RUN_FAILURE, run_id: str | None = None,
                job_name: str | None = None, account_id: int | None = None) -> bool:
    """Record an alert; returns True when it opened a new one, False when it was counted on the open
    alert of the same account's failure streak."""
    message = message[:MAX_MESSAGE_CHARS]
    if account_id is not None:
        counted = conn.execute(
            query_beside(__file__, "alert_count_on_open.sql"),
            {"s": source, "a": account_id, "m": message, "r": run_id, "j": job_name}).rowcount
        if counted:
            return False
    conn.execute(query_beside(__file__, "alert_open.sql"),
                 {"s": source, "r": run_id, "j": job_name, "m": message, "a": account_id})
    return True


def record_successful_sync(conn: Connection, account_id: int) -> None:
    """An import of the account succeeded: it is synced now, and its failure streak (if any) is over."""
    mark_synced(conn, account_id)
    close_alert_streak(conn, account_id)


def close_if_synced_since(conn: Connection, account_id: int, failed_at: float) -> bool:
    """Close the account's open alert when it has synced successfully since `failed_at` (epoch seconds):
    a failure reported after the retry that already succeeded ends its streak at once."""
    synced = conn.execute(text("SELECT last_synced_at > to_timestamp(:t) FROM ops.accounts WHERE account_id = :a"),
                          {"t": failed_at, "a": account_id}).scalar()
    return bool(synced) and close_alert_streak(conn, account_id) > 0


def close_alert_streak(conn: Connection, account_id: int, source: str = RUN_FAILURE) -> int:
    """The account works again: close its open alert, so its next failure raises a new one."""
    return conn.execute(query_beside(__file__, "alert_close_streak.sql"), {"s": source, "a": account_id}).rowcount
