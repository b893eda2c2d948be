"""The operations metrics as a Dagster asset: each materialisation measures every store's integrations,
keeps the threshold alerts in step, and reports one asset check per metric, so the UI shows at a glance
which metric is crossed where (warn or error) and the asset's history keeps the counts."""
from collections import Counter

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
    define_asset_job,
)

from marketsync.assets.operations.evaluate import evaluate_thresholds
from marketsync.assets.operations.metrics import METRICS, Reading, format_value
from marketsync.resources.warehouse import Warehouse

INTEGRATION_METRICS = AssetKey(["ops", "integration_metrics"])
OWNERS = ["team:operations"]
# Offenders named per check in its metadata (the full list is `marketsync alerts list`, /status).
SHOWN = 20


def check_name(metric: str) -> str:
    return f"{metric}_within_thresholds"


def metric_check(metric: str, readings: list[Reading]) -> AssetCheckResult:
    """Passed while no store's integration crosses the metric's thresholds; else failed at the worst
    severity found, naming the integrations."""
    crossed = sorted((r for r in readings if r.state != "ok"), key=lambda r: (r.state != "error", r.store))
    states = Counter(r.state for r in readings)
    metadata = {"measured": len(readings), "error": states["error"], "warn": states["warn"]}
    if crossed:
        metadata["crossed"] = MetadataValue.md("\n".join(
            f"- **{r.state}** {r.store}/{r.integration}: {format_value(r.value, r.unit)}" for r in crossed[:SHOWN])
            + (f"\n- ... and {len(crossed) - SHOWN} more" if len(crossed) > SHOWN else ""))
    return AssetCheckResult(
        check_name=check_name(metric), passed=not crossed, metadata=metadata,
        severity=AssetCheckSeverity.ERROR if states["error"] else AssetCheckSeverity.WARN)


@asset(
    key=INTEGRATION_METRICS,
    group_name="operations",
    owners=OWNERS,
    kinds={"postgres"},
    check_specs=[AssetCheckSpec(check_name(m), asset=INTEGRATION_METRICS,
                                description=f"No store's integration crosses its {m.replace('_', ' ')} thresholds.")
                 for m in METRICS],
)
def integration_metrics(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """Every store's integrations measured now (ops.metric_readings; analysts read
    analytics.integration_metrics): order import and stock push lags, outbound queue depth and dead
    letters, the last hour's sync error rate, the digital fulfilment success rate, quarantined feed rows
    and pending order exceptions, each against the store's thresholds. A crossed threshold keeps one
    alert open until it is back within them."""
    with warehouse.begin() as conn:
        evaluation = evaluate_thresholds(conn)
    by_metric: dict[str, list[Reading]] = {m: [] for m in METRICS}
    for reading in evaluation.readings:
        by_metric.setdefault(reading.metric, []).append(reading)
    states = Counter(r.state for r in evaluation.readings)
    context.log.info(evaluation.describe())
    return MaterializeResult(
        metadata={"dagster/row_count": len(evaluation.readings), "error": states["error"], "warn": states["warn"],
                  "stores": len({r.store for r in evaluation.readings}),
                  "alerts_opened": evaluation.opened, "alerts_closed": evaluation.closed},
        check_results=[metric_check(m, by_metric[m]) for m in METRICS])


integration_metrics_job = define_asset_job(
    "integration_metrics_job", selection=[INTEGRATION_METRICS],
    description="Measure every store's integrations against their thresholds (the asset checks show which "
                "metric is crossed where).")
