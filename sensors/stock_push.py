"""Pushes stock without anyone asking: a real-time channel within a minute of a stock or order change
its last push did not see (ops.stock_changes against that push's snapshot), a batch channel every
interval. Also keeps one `stock_channels` partition per store channel with stock settings."""
from datetime import UTC, datetime

from dagster import (
    AddDynamicPartitionsRequest,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from marketsync.assets.stock.assets import STOCK_CHANNEL_TAG, TRIGGER_TAG, stock_channels, stock_push_job
from marketsync.assets.stock.schedule import due_pushes
from marketsync.assets.stock.settings import all_settings
from marketsync.resources.warehouse import Warehouse
from marketsync.sensors.guard import warehouse_guard


@sensor(job=stock_push_job, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING,
        description="Pushes stock to each store channel: a real-time channel soon after a change its last push "
                    "did not see, a batch channel every interval; keeps one partition per store channel.")
@warehouse_guard
def stock_push_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
    """Requests a push per due store channel; run keys name the reason (the newest unseen change, or the
    batch slot), so a repeated tick requests nothing twice."""
    with warehouse.begin() as conn:
        keys = {s.partition_key for s in all_settings(conn)}
        due = due_pushes(conn, datetime.now(UTC))
    new_keys = sorted(keys - set(context.instance.get_dynamic_partitions(stock_channels.name)))
    partitions = [AddDynamicPartitionsRequest(stock_channels.name, new_keys)] if new_keys else []
    if not due:
        return SensorResult(skip_reason=SkipReason("no stock channel is due"), dynamic_partitions_requests=partitions)
    return SensorResult(
        run_requests=[RunRequest(run_key=d.run_key, partition_key=d.partition_key,
                                 tags={STOCK_CHANNEL_TAG: d.partition_key, TRIGGER_TAG: d.trigger,
                                       "marketsync/reason": d.reason})
                      for d in due],
        dynamic_partitions_requests=partitions)
