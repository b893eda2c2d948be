"""Raising and closing alerts (ops.alerts), one open alert per condition.

A condition is what an alert is about, named by its `condition_key`: by default the alert's source and
account ("run_failure:12", one store account's failure streak), or a key of the caller's (a metric of one
integration: "metric:order_import_lag:3:letzshop"). The first time a condition is raised opens its alert;
raising it again while it is open counts on that alert (occurrences, last_message, last_seen_at); closing
it (closed_at) lets the next occurrence open a new one. Notices to people are sent from these rows by
`notices`, which also damps a condition that flaps.

A failing store account raises one alert per failure streak: the first failure opens it, later ones
count on it, and the account's next successful import closes it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Row, text

from marketsync.assets.accounts import mark_synced
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside

RUN_FAILURE = "run_failure"
# A run failed because the channel no longer accepts the account's credentials: a person must authorise
# again. Like a failure streak, the account's next successful import closes it.
CREDENTIAL_REVOKED = "credential_revoked"
ACCOUNT_STREAKS = (RUN_FAILURE, CREDENTIAL_REVOKED)
SEVERITIES = ("warn", "error")
MAX_MESSAGE_CHARS = 2000


def condition_key_of(source: str, account_id: int | None) -> str:
    return f"{source}:{account_id}" if account_id is not None else source


def raise_alert(conn: Connection, message: str, *, source: str = RUN_FAILURE, run_id: str | None = None,
                job_name: str | None = None, account_id: int | None = None, store_id: int | None = None,
                severity: str = "error", condition_key: str | None = None) -> bool:
    """Record an alert; returns True when it opened a new one, False when it was counted on the open alert
    of the same condition. The store is the account's when an account is given."""
    if severity not in SEVERITIES:
        raise MarketsyncError(f"alert severity must be one of {', '.join(SEVERITIES)}, not '{severity}'")
    return bool(conn.execute(query_beside(__file__, "alert_raise.sql"), {
        "s": source, "r": run_id, "j": job_name, "m": message[:MAX_MESSAGE_CHARS], "a": account_id,
        "st": store_id, "sev": severity, "k": condition_key or condition_key_of(source, account_id),
    }).scalar_one())


@dataclass(frozen=True)
class Condition:
    """A condition that holds now, as a periodic evaluation finds it (a crossed threshold)."""

    condition_key: str
    message: str
    severity: str
    store_id: int | None = None
    account_id: int | None = None


def sync_conditions(conn: Connection, source: str, holding: Sequence[Condition]) -> tuple[int, int]:
    """Make the open alerts of `source` be exactly `holding`: each holding condition keeps (or opens) its
    alert with its current message and severity, and every other open alert of `source` closes. Returns
    (opened, closed). One statement for all, so a fleet's evaluation costs the same few round trips."""
    if any(c.severity not in SEVERITIES for c in holding):
        raise MarketsyncError(f"alert severity must be one of {', '.join(SEVERITIES)}")
    row = conn.execute(query_beside(__file__, "alerts_sync_conditions.sql"), {
        "source": source,
        "keys": [c.condition_key for c in holding],
        "messages": [c.message[:MAX_MESSAGE_CHARS] for c in holding],
        "severities": [c.severity for c in holding],
        "stores": [c.store_id for c in holding],
        "accounts": [c.account_id for c in holding],
    }).one()
    return int(row.opened), int(row.closed)


def record_successful_sync(conn: Connection, account_id: int) -> None:
    """An import of the account succeeded: it is synced now, and its failure streak (if any) is over."""
    mark_synced(conn, account_id)
    for source in ACCOUNT_STREAKS:
        close_alert_streak(conn, account_id, source)


def close_if_synced_since(conn: Connection, account_id: int, failed_at: float) -> bool:
    """Close the account's open alert when it has synced successfully since `failed_at` (epoch seconds):
    a failure reported after the retry that already succeeded ends its streak at once."""
    synced = conn.execute(text("SELECT last_synced_at > to_timestamp(:t) FROM ops.accounts WHERE account_id = :a"),
                          {"t": failed_at, "a": account_id}).scalar()
    return bool(synced) and sum(close_alert_streak(conn, account_id, source) for source in ACCOUNT_STREAKS) > 0


def close_alert_streak(conn: Connection, account_id: int, source: str = RUN_FAILURE) -> int:
    """The account works again: close its open alert of `source`, so its next failure raises a new one."""
    return conn.execute(text("UPDATE ops.alerts SET closed_at = now() WHERE condition_key = :k AND closed_at IS NULL"),
                        {"k": condition_key_of(source, account_id)}).rowcount


def list_alerts(conn: Connection, *, store: str | None = None, include_closed: bool = False,
                since: datetime | None = None, limit: int = 100) -> list[Row]:
    """Alerts, newest first: the open ones (and closed ones too, when asked), of `store` when given."""
    return list(conn.execute(query_beside(__file__, "alerts_list.sql"),
                             {"store": store, "closed": include_closed, "since": since, "lim": limit}).all())


def acknowledge(conn: Connection, alert_id: int, by: str) -> Row:
    """Someone has seen alert `alert_id` and is on it: it stays open until its condition clears, but is
    no longer escalated to people. Acknowledging twice keeps the first acknowledgement."""
    row = conn.execute(query_beside(__file__, "alert_ack.sql"), {"id": alert_id, "by": by}).first()
    if row is None:
        raise MarketsyncError(f"no alert {alert_id}")
    return row
