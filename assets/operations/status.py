"""The status of every store's integrations at a glance: one row per store and integration, green, amber or
red from its metrics' states and its open alerts, with its lags, queue depth and the causes (what the open
alerts say, and any crossed metric no alert speaks for yet); and the last day's orders per hour and sync
durations per hour. Also the counts /metrics exposes beside the metrics (open alerts per store and
severity, outbound writes per status).

Read in a few grouped queries whatever the number of stores (the metrics view, the open alerts, two
hourly series). Knows nothing of HTML: `marketsync serve` renders it (pipelines/ops_app).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from marketsync.assets.operations.health import open_alerts
from marketsync.assets.operations.metrics import Reading, read_metrics
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


@dataclass
class StatusRow:
    store_id: int | None
    store: str
    store_name: str | None
    integration: str
    state: str = "ok"
    figures: dict[str, Reading] = field(default_factory=dict)  # metric -> reading, for COLUMNS
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
    store_code = stores[store_id].code if store_id is not None else None
    readings = read_metrics(conn, store_code)
    alerts = open_alerts(conn, store_id)
    return Status(fold(readings, alerts, stores), len(stores))


def fold(readings: Iterable[Reading], alerts: Iterable[dict[str, Any]], stores: dict[int, Any]) -> list[StatusRow]:
    """Readings and open alerts as rows, one per store and integration."""
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
            row.figures[reading.metric] = reading
        if reading.state != "ok":
            row.worsen(reading.state)
            row.crossed += 1
            if reading.condition_key not in alerted:
                row.causes.append(Cause(reading.state, reading.describe()))
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
    median, 95th percentile and longest duration of the completed ones."""
    return [SyncHour(r.hour, int(r.runs), int(r.failed), r.p50_ms, r.p95_ms, r.max_ms)
            for r in conn.execute(query_beside(__file__, "status_sync_durations.sql"), {"store_id": store_id})]


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


def as_float(value: Decimal | float | int | None) -> float | None:
    return None if value is None else float(value)
