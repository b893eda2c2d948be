"""Fires on new orders: launches matching and the auto-confirm rule for the stores that received them."""

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SensorResult, SkipReason, sensor
from sqlalchemy import text

from pipelines.jobs import STORE_TAG, letzshop_order_followup_job
from resources.warehouse import Warehouse


@sensor(job=letzshop_order_followup_job, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING)
def new_orders_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
    """The cursor is the highest order id already handed on; the run_key names the store and the
    highest new order id, so a re-evaluated tick never launches the same work twice."""
    last_seen = int(context.cursor or 0)
    with warehouse.begin() as conn:
        rows = conn.execute(text(
            """SELECT s.code AS store, max(o.order_id) AS newest, count(*) AS new_orders
               FROM core.orders o JOIN ops.stores s USING (store_id)
               WHERE o.order_id > :last AND o.channel = 'letzshop'
               GROUP BY s.code ORDER BY s.code"""), {"last": last_seen}).all()
    if not rows:
        return SkipReason(f"no orders after id {last_seen}")
    return SensorResult(
        run_requests=[RunRequest(run_key=f"new-orders:{r.store}:{r.newest}", partition_key=r.store,
                                 tags={STORE_TAG: r.store, "marketsync/new_orders": str(r.new_orders)})
                      for r in rows],
        cursor=str(max(r.newest for r in rows)),
    )
