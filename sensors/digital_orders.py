"""Fires on confirmed orders with digital items not yet delivered: one fulfilment run per store with
work to do (units without a key, purchases with a step due, keys not delivered, delivered orders not yet
recorded as fulfilled); the store's `digital_stores` partition is added with its first run. The run key
is a digest of that work, so a tick that sees the same work requests nothing again, and new work always
gets a run: no cursor that could skip an order."""
from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SensorResult, SkipReason, sensor

from marketsync.assets.codeswholesale.digital import digital_fulfilment_job, digital_stores
from marketsync.resources.sql_files import query_beside
from marketsync.resources.warehouse import Warehouse
from marketsync.sensors.guard import warehouse_guard


@sensor(job=digital_fulfilment_job, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING,
        description="Runs the digital fulfilment of every store with confirmed orders whose digital items are "
                    "not delivered yet (keys to take from the pool or buy, purchases to follow up, deliveries).")
@warehouse_guard
def digital_orders_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
    with warehouse.begin() as conn:
        work = conn.execute(query_beside(__file__, "digital_work.sql")).all()
    known = set(context.instance.get_dynamic_partitions(digital_stores.name))
    missing = sorted({w.store for w in work} - known)
    requests = [RunRequest(run_key=f"digital:{w.store}:{w.digest}", partition_key=w.store,
                           tags={"marketsync/store": w.store}) for w in work]
    if not requests:
        return SkipReason("no store has digital order lines to fulfil")
    # A store's first digital work also makes its partition, in the same evaluation as its run.
    return SensorResult(run_requests=requests,
                        dynamic_partitions_requests=[digital_stores.build_add_request(missing)] if missing else [])
