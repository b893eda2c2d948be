"""Threshold alerts: every metric crossed now keeps one alert open (source `threshold`, one condition per
metric and integration of a store, at the severity it crossed); a metric back within its thresholds
closes its alert. The notices to people, and their damping, are the alerts' own (assets/alerts/notices.py).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from marketsync.assets.alerts import Condition, sync_conditions
from marketsync.assets.operations.metrics import Reading, read_metrics

THRESHOLD_SOURCE = "threshold"


@dataclass(frozen=True)
class Evaluation:
    readings: list[Reading]
    opened: int
    closed: int

    @property
    def crossed(self) -> list[Reading]:
        return [r for r in self.readings if r.state != "ok"]

    def describe(self) -> str:
        errors = sum(r.state == "error" for r in self.readings)
        warnings = sum(r.state == "warn" for r in self.readings)
        return (f"{len(self.readings)} readings: {errors} error, {warnings} warn; "
                f"{self.opened} alert(s) opened, {self.closed} closed")


def evaluate_thresholds(conn: Connection) -> Evaluation:
    """Measure every metric and make the open threshold alerts match what is crossed now."""
    readings = read_metrics(conn)
    holding = [Condition(r.condition_key, r.describe(), r.state, store_id=r.store_id, account_id=r.account_id)
               for r in readings if r.state != "ok"]
    opened, closed = sync_conditions(conn, THRESHOLD_SOURCE, holding)
    return Evaluation(readings, opened, closed)
