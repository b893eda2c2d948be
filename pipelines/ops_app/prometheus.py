"""`GET /metrics`: the operations metrics in Prometheus' text format, read from the warehouse at scrape time.

One gauge family per metric of ops.metric_definitions, labelled by store and integration, in Prometheus'
base units: seconds (`marketsync_order_import_lag_seconds`), ratios 0..1 for the percentages
(`marketsync_sync_error_rate_ratio`), plain counts (`marketsync_outbound_queue_depth`). Beside them:

    marketsync_metric_threshold{store, metric, severity}      each store's threshold (its own, else the
                                                              default), in the unit of the metric's family
    marketsync_metric_crossed{store, integration, metric, severity}
                                                              1 while a metric is past that threshold (absent
                                                              otherwise, as Prometheus' own ALERTS)
    marketsync_open_alerts{store, severity}                   open alerts (0 included)
    marketsync_outbound_items{store, channel, status}         writes still queued: pending, in_flight, dead

so an alert rule can compare a metric with its own store's threshold
(`marketsync_order_import_lag_seconds > on (store) group_left marketsync_metric_threshold{metric=
"order_import_lag", severity="error"}`) or simply fire on `marketsync_metric_crossed{severity="error"}`.
Samples per store and integration are what a thousand stores can afford (some 27,000 in all): the state of
an integration within its thresholds is not repeated as a sample of its own.

A collector of our own on a fresh CollectorRegistry per scrape (never the process's default registry,
whose process metrics say nothing about the merchants), scoped to the token's store when it has one.
"""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text

from marketsync.assets.operations.status import metric_rows, open_alert_counts, outbound_open_items

NAMESPACE = "marketsync"
_UNITS = {"seconds": ("_seconds", "seconds", 1), "percent": ("_ratio", "ratio", 100), "count": ("", "", 1)}


def family_name(metric: str, unit: str) -> str:
    """The Prometheus family of a metric: `marketsync_<metric>` with its base unit's suffix."""
    return f"{NAMESPACE}_{metric}{_UNITS[unit][0]}"


def _scaled(value: Decimal | float, unit: str) -> float:
    return float(value) / _UNITS[unit][2]


class OperationsCollector(Collector):
    """Reads the metrics, the open alerts and the outbound queue when collected (once per scrape)."""

    def __init__(self, engine: Engine, store_id: int | None = None):
        self.engine, self.store_id = engine, store_id

    def collect(self) -> Iterator[Metric]:
        with self.engine.connect() as conn:
            conn.execute(text("SET LOCAL statement_timeout = '20s'"))
            definitions = conn.execute(text(
                "SELECT metric, label, unit, description FROM ops.metric_definitions ORDER BY metric")).all()
            readings = metric_rows(conn, self.store_id)
            alerts = open_alert_counts(conn, self.store_id)
            outbound = outbound_open_items(conn, self.store_id)
        families = {}
        for d in definitions:
            name = family_name(d.metric, d.unit)
            families[d.metric] = GaugeMetricFamily(name, f"{d.label[:1].upper()}{d.label[1:]}: {d.description}",
                                                   labels=["store", "integration"], unit=_UNITS[d.unit][1])
        threshold = GaugeMetricFamily(
            f"{NAMESPACE}_metric_threshold",
            "A store's threshold of a metric (its own, else the default), in the unit of the metric's family; "
            "the metric is crossed above it (below it for the success rate).",
            labels=["store", "metric", "severity"])
        crossed = GaugeMetricFamily(
            f"{NAMESPACE}_metric_crossed",
            "1 for each metric of a store's integration past its warn or error threshold now (absent when "
            "within them, as Prometheus' own ALERTS): severity warn or error.",
            labels=["store", "integration", "metric", "severity"])
        seen_thresholds = set()
        for r in readings:
            family = families.get(r.metric)
            if family is not None:
                family.add_metric([r.store, r.integration], _scaled(r.value, r.unit))
            if r.state != "ok":
                crossed.add_metric([r.store, r.integration, r.metric, r.state], 1)
            if (r.store, r.metric) not in seen_thresholds:
                seen_thresholds.add((r.store, r.metric))
                for severity, limit in (("warn", r.warn_at), ("error", r.error_at)):
                    if limit is not None:
                        threshold.add_metric([r.store, r.metric, severity], _scaled(limit, r.unit))
        yield from families.values()
        yield threshold
        yield crossed
        open_alerts = GaugeMetricFamily(f"{NAMESPACE}_open_alerts", "Open alerts of the store, by severity.",
                                        labels=["store", "severity"])
        for store, severity, count in alerts:
            open_alerts.add_metric([store, severity], count)
        yield open_alerts
        items = GaugeMetricFamily(f"{NAMESPACE}_outbound_items",
                                  "Outbound writes the queue still holds, by store, channel and status "
                                  "(pending, in_flight, dead).", labels=["store", "channel", "status"])
        for store, channel, status, count in outbound:
            items.add_metric([store, channel, status], count)
        yield items


def exposition(engine: Engine, accept: str | None, store_id: int | None = None) -> tuple[bytes, str]:
    """(body, content type) of one scrape, in the format the scraper accepts (text 0.0.4, or OpenMetrics)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(OperationsCollector(engine, store_id))
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type
