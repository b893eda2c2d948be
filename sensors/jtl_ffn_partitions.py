"""Keeps one `jtl_ffn_accounts` partition per store with an enabled JTL-FFN account."""
from dagster import (AddDynamicPartitionsRequest, DefaultSensorStatus, SensorEvaluationContext, SensorResult,
                     sensor)
from sqlalchemy import text

from assets.jtl_ffn.assets import jtl_ffn_accounts
from resources.warehouse import Warehouse


@sensor(minimum_interval_seconds=300, default_status=DefaultSensorStatus.RUNNING)
def jtl_ffn_partitions_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
    """Registers every store with an enabled `jtl_ffn` account as a partition, so the hourly automation
    conditions cover it (it requests no runs itself)."""
    with warehouse.begin() as conn:
        stores = conn.execute(text("SELECT s.code FROM ops.accounts a JOIN ops.stores s USING (store_id) "
                                   "WHERE a.channel = 'jtl_ffn' AND a.enabled ORDER BY 1")).scalars().all()
    new_keys = sorted(set(stores) - set(context.instance.get_dynamic_partitions(jtl_ffn_accounts.name)))
    return SensorResult(dynamic_partitions_requests=[
        AddDynamicPartitionsRequest(jtl_ffn_accounts.name, new_keys)] if new_keys else [])
