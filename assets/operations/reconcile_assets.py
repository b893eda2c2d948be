"""Reconciliation as Dagster sees it: for every channel that declares a reconciliation listing
(`Orders.reconcile` in assets/<channel>/channel.py), the asset `ops/<channel>_reconciliation`, partitioned
by the channel's store accounts (the partitions its order assets use), and its asset check.

A materialisation reconciles one account's UTC day (yesterday, or the day its config names; the nightly
sensor, sensors/reconciliation.py, names it) through assets/operations/reconcile.py: the figures of both
sides become the materialisation's metadata, and the check `matches_channel`, partitioned like the asset
(Dagster 1.13's partitioned asset checks, a preview feature), passes or fails with severity ERROR for
that account, naming the missing, extra and differing orders. It does not block anything downstream.

Each channel's Definitions (assets/<channel>/definitions.py) takes its asset from here; nothing is
defined for a channel that declares no listing.
"""
import warnings
from functools import cache

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Backoff,
    Config,
    MaterializeResult,
    MetadataValue,
    PreviewWarning,
    RetryPolicy,
    asset,
)

from marketsync.assets.channel_registry import channel, load
from marketsync.assets.failures import worded_failure
from marketsync.assets.operations.reconcile import Reconciliation, parse_day, reconcile_account, yesterday
from marketsync.resources.celery_queues import pool_queue_tags

OWNERS = ["team:data-engineering"]
GROUP = "operations"
CHECK = "matches_channel"
LISTED_IN_METADATA = 100  # order numbers the metadata lists per kind of difference (the counts are whole)
# A network error, 429 or 5xx: two more tries, a minute apart and growing; worded_failure() lets anything
# else (a refused key, a bad day) fail at once.
TRANSIENT_RETRY = RetryPolicy(max_retries=2, delay=60, backoff=Backoff.EXPONENTIAL)


def reconciliation_key(channel_name: str) -> AssetKey:
    return AssetKey(["ops", f"{channel_name}_reconciliation"])


def reconciliation_op(channel_name: str) -> str:
    """The op name of the channel's reconciliation asset (where its run config goes)."""
    return reconciliation_key(channel_name).to_python_identifier()


class ReconciliationConfig(Config):
    """Which UTC day to reconcile (YYYY-MM-DD); none: yesterday."""

    day: str | None = None


def _metadata(result: Reconciliation) -> dict:
    figures = result.as_dict(limit=LISTED_IN_METADATA)
    return {
        "day": result.day.isoformat(),
        "dagster/row_count": result.channel_orders,
        "channel_orders": result.channel_orders, "warehouse_orders": result.warehouse_orders,
        "channel_units": result.channel_units, "warehouse_units": result.warehouse_units,
        "channel_totals": MetadataValue.json(figures["channel_totals"]),
        "warehouse_totals": MetadataValue.json(figures["warehouse_totals"]),
        "matched": result.matched, "missing": len(result.missing), "extra": len(result.extra),
        "differing": len(result.differing), "without_total": result.without_total,
    }


def _check_metadata(result: Reconciliation) -> dict:
    figures = result.as_dict(limit=LISTED_IN_METADATA)
    return {
        "day": result.day.isoformat(), "matched": result.matched,
        "missing": len(result.missing), "extra": len(result.extra), "differing": len(result.differing),
        "missing_ids": MetadataValue.json(figures["missing"]),
        "extra_ids": MetadataValue.json(figures["extra"]),
        "differing_orders": MetadataValue.json(figures["differing"]),
    }


@cache
def _partitioned_check(key: AssetKey, partitions, label: str) -> AssetCheckSpec:
    """The check of one account's day, partitioned like the asset. Partitioned checks are a preview in
    Dagster 1.13: its PreviewWarning, printed at every import of the code location (each CLI command that
    loads it too), is silenced here, where the choice is made and written down."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)
        return AssetCheckSpec(
            CHECK, asset=key, partitions_def=partitions, blocking=False,
            description=f"Every {label} order of the day is in the warehouse with the same units and total, "
                        f"and the warehouse holds none {label} does not list.")


def reconciliation_assets(channel_name: str) -> list[AssetsDefinition]:
    """The channel's reconciliation asset with its check (one list, empty when the channel declares no
    listing). The same objects on every call, so the code location and the tests share them."""
    declaration = channel(channel_name)
    if not (declaration.orders and declaration.orders.reconcile and declaration.partitions):
        return []
    key = reconciliation_key(channel_name)
    partitions = load(declaration.partitions)
    label, client_key = declaration.label, declaration.key
    pool = declaration.outbound.pool if declaration.outbound else None

    @asset(key=key, partitions_def=partitions, group_name=GROUP, owners=OWNERS, kinds={channel_name, "postgres"},
           pool=pool, op_tags=pool_queue_tags(pool),
           retry_policy=TRANSIENT_RETRY, deps=[AssetKey(list(declaration.orders.asset))],
           required_resource_keys={"warehouse", "vault", client_key},
           description=f"A store's {label} orders of one UTC day (yesterday unless the run names one) as {label} "
                       f"lists them, compared with core.orders: order count, units and order totals; the missing, "
                       f"extra and differing orders are in the metadata, in the check and in the store's alert.",
           check_specs=[_partitioned_check(key, partitions, label)])
    def reconciliation(context: AssetExecutionContext, config: ReconciliationConfig) -> MaterializeResult:
        """Reads the day back from the channel (its cheapest listing call), then the warehouse, and compares;
        a difference opens the account's reconciliation alert, a clean day closes it. A refused key or a
        bad day fails at once; only a transient error is retried by Dagster."""
        with worded_failure():
            day = parse_day(config.day) if config.day else yesterday()
            result = reconcile_account(context.resources.warehouse, context.resources.vault,
                                       getattr(context.resources, client_key), context.partition_key,
                                       channel_name, day, run_id=context.run_id, job_name=context.job_name)
        context.log.info(result.summary())
        return MaterializeResult(metadata=_metadata(result), check_results=[AssetCheckResult(
            check_name=CHECK, passed=result.clean, severity=AssetCheckSeverity.ERROR,
            description=result.summary(), metadata=_check_metadata(result))])

    return [reconciliation]
