"""Retention as a Dagster asset, materialised daily by `sensors/privacy.py`: every store's buyers'
personal data older than its retention period removed everywhere it is held. The materialisation and
the run's log carry counts only; its check fails while any order still holds expired data."""
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    asset,
    define_asset_job,
)

from marketsync.assets.privacy.retention import apply_retention
from marketsync.resources.sql_files import query_beside
from marketsync.resources.warehouse import Warehouse

PERSONAL_DATA_RETENTION = AssetKey(["privacy", "personal_data_retention"])
CHECK = "no_personal_data_past_retention"


@asset(
    key=PERSONAL_DATA_RETENTION,
    group_name="privacy",
    owners=["team:operations"],
    kinds={"postgres"},
    check_specs=[AssetCheckSpec(CHECK, asset=PERSONAL_DATA_RETENTION,
                                description="No order holds a buyer's personal data past its store's retention "
                                            "period.")],
)
def personal_data_retention(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """Buyers' personal data kept no longer than each store's retention period (ops.stores, default 24
    months after an order's last change): names, e-mail addresses, street addresses and phone numbers
    are removed from the canonical orders, the raw payloads, the outbound queue, exceptions and
    quarantined records; ids, dates, amounts, countries and items stay for analysts and accounting.
    Each store's run is recorded in ops.privacy_requests with counts."""
    runs = apply_retention(warehouse, requested_by=f"dagster run {context.run_id}")
    for run in runs:
        context.log.info(f"{run.store}: {run.orders} order(s) past retention, "
                         f"{sum(run.rows_changed.values())} row(s) cleaned")
    with warehouse.begin() as conn:
        overdue = conn.execute(query_beside(__file__, "retention_overdue.sql")).scalar_one()
    return MaterializeResult(
        metadata={"dagster/row_count": sum(r.orders for r in runs), "stores": len(runs),
                  **{f"orders_expired/{r.store}": r.orders for r in runs}},
        check_results=[AssetCheckResult(check_name=CHECK, passed=overdue == 0,
                                        metadata={"orders_overdue": overdue})])


personal_data_retention_job = define_asset_job(
    "personal_data_retention_job", selection=[PERSONAL_DATA_RETENTION],
    description="Remove buyers' personal data past each store's retention period.")
