"""When a store channel's stock is pushed without anyone asking: real-time (a change the last good push
did not see), or batch (every interval). Pure decisions over rows of sql/due_pushes.sql, so the sensor
only reads and requests, and the rules are tested without Dagster."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from marketsync.assets.stock.settings import partition_key
from marketsync.resources.sql_files import query_beside

# After a failed push, a real-time channel waits this long before the next attempt.
FAILED_RETRY_AFTER = timedelta(minutes=5)
# A push still "running" after this long died without closing its row; the next push closes it.
STALE_RUNNING = timedelta(hours=1)


@dataclass(frozen=True)
class DuePush:
    partition_key: str
    run_key: str
    reason: str
    trigger: str


def decide(row, now: datetime) -> DuePush | None:
    """Whether the channel of `row` is due, with a run key that is the same for the same reason (so a
    sensor tick that repeats itself requests nothing new)."""
    key = partition_key(row["store"], row["channel"])
    latest_at = row["latest_started_at"]
    if row["latest_status"] == "running" and latest_at and now - latest_at < STALE_RUNNING:
        return None
    if row["strategy"] == "batch":
        interval = timedelta(minutes=row["batch_interval_minutes"])
        if latest_at is None or now - latest_at >= interval:
            slot = int(now.timestamp() // interval.total_seconds())
            return DuePush(key, f"stock:{key}:batch:{slot}", "batch interval elapsed", "batch")
        return None
    # real-time
    if row["latest_status"] == "failed" and latest_at and now - latest_at < FAILED_RETRY_AFTER:
        return None
    if row["last_ok_id"] is None:
        return DuePush(key, f"stock:{key}:first:{row['latest_id'] or 0}", "never pushed", "realtime")
    if row["unseen_change"] is not None:
        return DuePush(key, f"stock:{key}:change:{row['unseen_change']}:{row['latest_id']}",
                       "stock or orders changed", "realtime")
    if row["latest_status"] in ("partially_succeeded", "failed") and latest_at and \
            now - latest_at >= timedelta(minutes=row["batch_interval_minutes"]):
        return DuePush(key, f"stock:{key}:retry:{row['latest_id']}", "unacknowledged listings", "realtime")
    return None


def due_pushes(conn: Connection, now: datetime) -> list[DuePush]:
    rows = conn.execute(query_beside(__file__, "due_pushes.sql")).mappings().all()
    return [due for due in (decide(row, now) for row in rows) if due]
