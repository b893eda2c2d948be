"""The status of every store's integrations at a glance: one row per store and integration, green, amber or
red from its metrics' states and its open alerts, with its lags, queue depth and the causes (what the open
alerts say, and any crossed metric no alert speaks for yet); and the last day's orders per hour and sync
durations per hour. Also the counts /metrics exposes beside the metrics (open alerts per store and
severity, outbound writes per status).

Read in a few grouped queries whatever the number of stores (the metrics view, the open alerts, two
hourly series). Knows nothing of HTML: `marketsync serve` renders it (pipelines/ops_app).
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from marketsync.assets.operations.health import open_alerts
from marketsync.assets.operations.metrics import Reading
from marketsync.resources.sql_files import query_beside

LEVELS = {"ok": 0, "warn": 1, "error": 2}
STATES = ("ok", "warn", "error")
# The figures a row shows in columns of their own (the other metrics appear as causes when crossed).
COLUMNS = ("order_import_lag", "inventory_sync_lag", "outbound_queue_depth", "dead_letters", "sync_error_rate")


@dataclass(frozen=True)
class Cause:
    """Why a row is not green: an open alert's message, or a crossed metric without an alert yet."""

    severity: str  # warn, error
    text: str
    since: datetime | None = None
    acknowledged: bool = False
    occurrences: int = 1


@dataclass(frozen=True)
class Figure:
    """A figure a row shows in a column: the value in its unit, and its state."""

    value: Decimal
    unit: str
    state: str


@dataclass
class StatusRow:
    store_id: int | None
    store: str
    store_name: str | None
    integration: str
    state: str = "ok"
    figures: dict[str, Figure] = field(default_factory=dict)  # metric -> its figure, for COLUMNS
    causes: list[Cause] = field(default_factory=list)
    crossed: int = 0  # metrics past a threshold

    def worsen(self, state: str) -> None:
        if LEVELS[state] > LEVELS[self.state]:
            self.state = state

    @property
    def sort_key(self) -> tuple:
        return -LEVELS[self.state], self.store, self.integration


@dataclass(frozen=True)
class Status:
    rows: list[StatusRow]
    store_count: int

    def count(self, state: str) -> int:
        return sum(r.state == state for r in self.rows)

    def stores_in(self, state: str) -> int:
        """Stores whose worst row is `state`."""
        worst: dict[str, int] = {}
        for row in self.rows:
            worst[row.store] = max(worst.get(row.store, 0), LEVELS[row.state])
        return sum(level == LEVELS[state] for level in worst.values())


def status(conn: Connection, store_id: int | None = None) -> Status:
    """Every store's integrations (only `store_id`'s when given), worst first, then by store and
    integration."""
    stores = {row.store_id: row for row in conn.execute(query_beside(__file__, "status_stores.sql"),
                                                         {"store_id": store_id})}
    if store_id is not None and store_id not in stores:
        return Status([], 0)
    readings = conn.execute(query_beside(__file__, "status_readings.sql"), {"store_id": store_id}).all()
    alerts = open_alerts(conn, store_id)
    return Status(fold(readings, alerts, stores), len(stores))


def fold(readings: Iterable[Any], alerts: Iterable[dict[str, Any]], stores: dict[int, Any]) -> list[StatusRow]:
    """Readings (rows of ops.metric_readings) and open alerts as rows, one per store and integration."""
    rows: dict[tuple[int | None, str], StatusRow] = {}

    def row_of(store_id: int | None, integration: str) -> StatusRow:
        key = (store_id, integration)
        if key not in rows:
            store = stores.get(store_id) if store_id is not None else None
            rows[key] = StatusRow(store_id, store.code if store else "(all stores)", store.name if store else None,
                                  integration)
        return rows[key]

    alerted = set()
    for alert in alerts:
        row = row_of(alert["store_id"], alert["integration"])
        row.worsen(alert["severity"])
        row.causes.append(Cause(alert["severity"], alert["message"], alert["created_at"], alert["acked_at"] is not None,
                                alert["occurrences"]))
        alerted.add(alert["condition_key"])
    for reading in readings:
        row = row_of(reading.store_id, reading.integration)
        if reading.metric in COLUMNS:
            row.figures[reading.metric] = Figure(reading.value, reading.unit, reading.state)
        if reading.state != "ok":
            row.worsen(reading.state)
            row.crossed += 1
            if reading.condition_key not in alerted:
                row.causes.append(Cause(reading.state, Reading(**reading._mapping).describe()))
    for row in rows.values():
        row.causes.sort(key=lambda c: -LEVELS[c.severity])
    return sorted(rows.values(), key=lambda r: r.sort_key)


# ----------------------------------------------------------------------------------------------- charts
@dataclass(frozen=True)
class OrdersHour:
    hour: datetime
    orders: int


@dataclass(frozen=True)
class SyncHour:
    hour: datetime
    runs: int
    failed: int
    p50_ms: int | None
    p95_ms: int | None
    max_ms: int | None


def orders_per_hour(conn: Connection, store_id: int | None = None) -> list[OrdersHour]:
    """The last 24 hours' orders per hour (by ordered_at), oldest hour first, the current hour last."""
    return [OrdersHour(r.hour, int(r.orders))
            for r in conn.execute(query_beside(__file__, "status_orders_per_hour.sql"), {"store_id": store_id})]


def sync_durations(conn: Connection, store_id: int | None = None) -> list[SyncHour]:
    """The last 24 hours' sync operations per hour of their start: how many, how many failed, and the
    median, 95th percentile (to within 2.5%, from a histogram) and longest duration of the completed ones."""
    hours = conn.execute(query_beside(__file__, "status_hours.sql")).scalars().all()
    buckets: dict[datetime, list[tuple[int | None, int, int, int | None]]] = {}
    for r in conn.execute(query_beside(__file__, "status_sync_durations.sql"), {"store_id": store_id}):
        buckets.setdefault(r.hour, []).append((r.bucket, int(r.runs), int(r.failed), r.max_ms))
    return [_hour_of(hour, buckets.get(hour, [])) for hour in hours]


def _hour_of(hour: datetime, buckets: list[tuple[int | None, int, int, int | None]]) -> SyncHour:
    runs = sum(b[1] for b in buckets)
    failed = sum(b[2] for b in buckets)
    longest = max((b[3] for b in buckets if b[3] is not None), default=None)
    completed = sorted((b[0], b[1]) for b in buckets if b[0] is not None)
    return SyncHour(hour, runs, failed, _percentile(completed, 0.5, longest), _percentile(completed, 0.95, longest),
                    longest)


def _percentile(histogram: list[tuple[int, int]], fraction: float, longest: int | None) -> int | None:
    """The duration (ms) at `fraction` of a histogram of (bucket, count), sorted by bucket: the middle of the
    bucket holding it (percentile_disc's rank), never more than the longest."""
    total = sum(count for _, count in histogram)
    if not total:
        return None
    rank, seen = max(1, math.ceil(fraction * total)), 0
    for bucket, count in histogram:
        seen += count
        if seen >= rank:
            middle = round(1.05 ** (bucket + 0.5))
            return min(middle, longest) if longest is not None else middle
    return longest


# ------------------------------------------------------------------------------------ counts for /metrics
def open_alert_counts(conn: Connection, store_id: int | None = None) -> list[tuple[str, str, int]]:
    """(store, severity, open alerts) for every store (or `store_id`'s), 0 included."""
    return [(r.store, r.severity, int(r.alerts))
            for r in conn.execute(query_beside(__file__, "open_alerts_by_store.sql"), {"store_id": store_id})]


def outbound_open_items(conn: Connection, store_id: int | None = None) -> list[tuple[str, str, str, int]]:
    """(store, channel, status, items) of the writes the outbound queue still holds: pending, in flight,
    dead-lettered."""
    return [(r.store, r.channel, r.status, int(r.items))
            for r in conn.execute(query_beside(__file__, "outbound_open_items.sql"), {"store_id": store_id})]


def metric_rows(conn: Connection, store_id: int | None = None) -> list[Any]:
    """The rows of ops.metric_readings (of `store_id` when given), unordered, as plain rows: what /metrics
    turns into samples."""
    return conn.execute(query_beside(__file__, "status_readings.sql"), {"store_id": store_id}).all()
