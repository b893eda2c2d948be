"""Keeps one partition per store with an enabled account of a partitioned channel (eBay, Amazon), so the
assets' automation conditions cover it (it requests no runs itself)."""
from dagster import (AddDynamicPartitionsRequest, DefaultSensorStatus, SensorEvaluationContext, SensorResult,
                     sensor)
from sqlalchemy import text

from assets.amazon.orders import amazon_accounts
from assets.ebay.orders import ebay_accounts
from resources.warehouse import Warehouse

PARTITIONS = {"ebay": ebay_accounts, "amazon": amazon_accounts}


@sensor(minimum_interval_seconds=300, default_status=DefaultSensorStatus.RUNNING)
def channel_partitions_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
    """Registers every store with an enabled eBay or Amazon account as a partition of its channel."""
    requests = []
    with warehouse.begin() as conn:
        for channel, partitions in PARTITIONS.items():
            stores = conn.execute(text("SELECT s.code FROM ops.accounts a JOIN ops.stores s USING (store_id) "
                                       "WHERE a.channel = :c AND a.enabled ORDER BY 1"), {"c": channel}).scalars().all()
            new_keys = sorted(set(stores) - set(context.instance.get_dynamic_partitions(partitions.name)))
            if new_keys:
                requests.append(AddDynamicPartitionsRequest(partitions.name, new_keys))
    return SensorResult(dynamic_partitions_requests=requests)
