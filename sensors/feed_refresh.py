"""Refreshes each pulled supplier feed when its interval (settings `refresh_minutes`, default 60) has
passed since its last import run started."""
import json
from datetime import UTC, datetime

from dagster import (
    AddDynamicPartitionsRequest,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    define_asset_job,
    sensor,
)

from marketsync.assets.feeds.pull import feed_partition_key, supplier_feed_products, supplier_feeds
from marketsync.resources.sql_files import query_beside
from marketsync.resources.warehouse import Warehouse
from marketsync.sensors.guard import warehouse_guard

DEFAULT_REFRESH_MINUTES = 60

supplier_feed_job = define_asset_job("supplier_feed_job", selection=[supplier_feed_products],
                                     partitions_def=supplier_feeds,
                                     description="Download and load one supplier's pulled feed.")


@sensor(job=supplier_feed_job, minimum_interval_seconds=60, default_status=DefaultSensorStatus.RUNNING,
        description="Imports each enabled pulled supplier feed once per refresh interval (feed setting "
                    "`refresh_minutes`, default 60) and keeps one partition per feed.")
@warehouse_guard
def supplier_feed_refresh_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
    """Registers every enabled pull feed as a partition and requests an import per feed and interval
    slot (the run_key), so a feed is imported once per interval however often the sensor ticks."""
    now = datetime.now(UTC)
    with warehouse.begin() as conn:
        feeds = conn.execute(query_beside(__file__, "pull_feeds.sql"), {"d": DEFAULT_REFRESH_MINUTES}).all()
    keys = [feed_partition_key(f.store, f.name) for f in feeds]
    new_keys = sorted(set(keys) - set(context.instance.get_dynamic_partitions(supplier_feeds.name)))
    cursor = json.loads(context.cursor) if context.cursor else {}
    requests = []
    for feed, key in zip(feeds, keys, strict=True):
        interval = max(5, feed.minutes) * 60
        if feed.last_run and (now - feed.last_run).total_seconds() < interval:
            continue
        slot = int(now.timestamp() // interval)
        if cursor.get(key) == slot:
            continue
        cursor[key] = slot
        requests.append(RunRequest(run_key=f"feed:{key}:{slot}", partition_key=key,
                                   tags={"marketsync/store": feed.store}))
    return SensorResult(
        run_requests=requests,
        skip_reason=None if requests else SkipReason(
            f"no feed is due ({len(feeds)} pulled feeds enabled)" if feeds else "no pulled feed is enabled"),
        dynamic_partitions_requests=[AddDynamicPartitionsRequest(supplier_feeds.name, new_keys)] if new_keys else [],
        cursor=json.dumps(cursor, sort_keys=True),
    )
