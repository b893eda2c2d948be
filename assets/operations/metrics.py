"""The operations metrics: per store and integration, how late the order imports and stock pushes are,
how deep the outbound queue is, how often syncs fail, how well digital orders are fulfilled, what waits
for a person (dead-lettered writes, quarantined rows, pending order exceptions).

They are measured by the database (sql/operations_metrics.sql: ops.metric_values, ops.metric_readings
and the analysts' analytics.integration_metrics), with thresholds per store: ops.metric_definitions holds
the defaults, ops.metric_thresholds a store's own. This module reads them and changes the thresholds; it
knows nothing of how they are shown (the asset checks, /metrics, /status) or alerted on.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, text

from marketsync.assets.stores import store_id_for
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside

STATES = ("ok", "warn", "error")

# The metrics the database defines (ops.metric_definitions, migration 0012), in the order they are shown;
# tests/test_operations_metrics.py proves the two lists agree.
METRICS = ("order_import_lag", "inventory_sync_lag", "outbound_queue_depth", "sync_error_rate",
           "digital_fulfilment_success_rate", "dead_letters", "quarantined_rows", "pending_exceptions",
           "pending_exception_age")


@dataclass(frozen=True)
class Reading:
    """One metric of one store's integration, measured now, with its thresholds and state."""

    store_id: int
    store: str
    integration: str  # the account's channel, "feed:<name>", "orders" (exceptions) or "digital"
    metric: str
    label: str
    unit: str  # seconds, percent, count
    direction: str  # above: crossed when greater than a threshold; below: when less
    value: Decimal
    warn_at: Decimal | None
    error_at: Decimal | None
    state: str  # ok, warn, error
    condition_key: str
    account_id: int | None = None
    source_id: int | None = None

    def describe(self) -> str:
        """'{store}/{integration}: {label} is {value} (warn above ..., error above ...)', for people."""
        limits = [f"{name} {'above' if self.direction == 'above' else 'below'} {format_value(limit, self.unit)}"
                  for name, limit in (("warn", self.warn_at), ("error", self.error_at)) if limit is not None]
        return (f"{self.store}/{self.integration}: {self.label} is {format_value(self.value, self.unit)}"
                + (f" ({', '.join(limits)})" if limits else ""))


def format_value(value: Decimal | float, unit: str) -> str:
    """A value as people read it: 95.5 %, 3 h 5 min, 12."""
    number = float(value)
    if unit == "percent":
        return f"{number:g} %"
    if unit == "seconds":
        seconds = int(number)
        if seconds < 120:
            return f"{seconds} s"
        if seconds < 7200:
            return f"{seconds // 60} min"
        if seconds < 172800:
            return f"{seconds // 3600} h {seconds % 3600 // 60} min"
        return f"{seconds // 86400} d {seconds % 86400 // 3600} h"
    return f"{number:g}"


def read_metrics(conn: Connection, store: str | None = None, *, states: Sequence[str] | None = None
                 ) -> list[Reading]:
    """Every metric now (only `store`'s, and only in `states`, when given), ordered by store,
    integration and metric."""
    rows = conn.execute(query_beside(__file__, "metric_readings.sql"),
                        {"store": store, "states": list(states) if states else None}).mappings()
    return [Reading(**row) for row in rows]


@dataclass(frozen=True)
class Threshold:
    metric: str
    label: str
    unit: str
    direction: str
    warn_at: Decimal | None
    error_at: Decimal | None
    own: bool  # the store's own (else the default)


def thresholds(conn: Connection, store: str) -> list[Threshold]:
    """Each metric's thresholds for `store`: its own where it set them, else the defaults."""
    store_id = store_id_for(conn, store)
    return [Threshold(**row) for row in conn.execute(query_beside(__file__, "store_thresholds.sql"),
                                                        {"s": store_id}).mappings()]


def set_threshold(conn: Connection, store: str, metric: str, *, warn_at: float | None,
                  error_at: float | None) -> Threshold:
    """Give `store` its own thresholds for `metric` (None: never at that severity); the order of the two
    must fit the metric's direction (warn before error)."""
    store_id = store_id_for(conn, store)
    definition = conn.execute(text("SELECT direction, unit FROM ops.metric_definitions WHERE metric = :m"),
                              {"m": metric}).first()
    if definition is None:
        raise MarketsyncError(f"no metric '{metric}': one of {', '.join(METRICS)}")
    if warn_at is not None and error_at is not None:
        wrong = warn_at > error_at if definition.direction == "above" else warn_at < error_at
        if wrong:
            relation = "at most" if definition.direction == "above" else "at least"
            raise MarketsyncError(f"{metric} is crossed {definition.direction} its thresholds: warn must be "
                                  f"{relation} error (got warn {warn_at:g}, error {error_at:g})")
    if definition.unit == "percent" and any(v is not None and not 0 <= v <= 100 for v in (warn_at, error_at)):
        raise MarketsyncError(f"{metric} is a percentage: thresholds lie between 0 and 100")
    if any(v is not None and v < 0 for v in (warn_at, error_at)):
        raise MarketsyncError(f"{metric} cannot be negative: thresholds are 0 or more")
    conn.execute(query_beside(__file__, "threshold_upsert.sql"),
                 {"s": store_id, "m": metric, "w": warn_at, "e": error_at})
    return next(t for t in thresholds(conn, store) if t.metric == metric)


def reset_threshold(conn: Connection, store: str, metric: str) -> bool:
    """Back to the default thresholds of `metric` for `store`; False when it had none of its own."""
    return bool(conn.execute(text("DELETE FROM ops.metric_thresholds WHERE store_id = :s AND metric = :m"),
                             {"s": store_id_for(conn, store), "m": metric}).rowcount)
