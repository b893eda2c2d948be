"""Keeps one `codeswholesale_accounts` partition per store with an enabled CodesWholesale source, so the
six-hourly automation condition of `codeswholesale_products` covers every such store."""

from dagster import (
    AddDynamicPartitionsRequest,
    DefaultSensorStatus,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from marketsync.assets.codeswholesale.catalog import codeswholesale_accounts, codeswholesale_store_codes
from marketsync.resources.warehouse import Warehouse
from marketsync.sensors.guard import warehouse_guard


@sensor(minimum_interval_seconds=300, default_status=DefaultSensorStatus.RUNNING,
        description="Keeps one codeswholesale_accounts partition per store with an enabled CodesWholesale "
                    "source; the six-hourly automation condition imports them.")
@warehouse_guard
def codeswholesale_partitions_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
    """Registers every store with an enabled CodesWholesale source as a `codeswholesale_accounts`
    partition, so the six-hourly automation condition covers it (it requests no runs itself)."""
    with warehouse.begin() as conn:
        stores = codeswholesale_store_codes(conn)
    new_keys = sorted(set(stores) - set(context.instance.get_dynamic_partitions(codeswholesale_accounts.name)))
    if not new_keys:
        return SkipReason(f"every store with a CodesWholesale source has its partition ({len(stores)})")
    return SensorResult(
        dynamic_partitions_requests=[AddDynamicPartitionsRequest(codeswholesale_accounts.name, new_keys)])
