"""Every sensor of the code location, listed once (pipelines/definitions.py takes them from here)."""
from sensors.auto_sync import order_auto_sync_sensor
from sensors.codeswholesale_partitions import codeswholesale_partitions_sensor
from sensors.failures import run_failure_alert_sensor, sync_log_sweep_sensor
from sensors.feed_refresh import supplier_feed_refresh_sensor
from sensors.inbound_sheet_schedule import inbound_sheet_schedule_sensor
from sensors.new_orders import new_orders_sensor
from sensors.outbound import outbound_queue_sensor
from sensors.partitions import account_partitions_sensor
from sensors.stock_push import stock_push_sensor
from sensors.webhook_inbox import feed_inbox_sensor

sensors = [order_auto_sync_sensor, new_orders_sensor, outbound_queue_sensor, feed_inbox_sensor,
           run_failure_alert_sensor, sync_log_sweep_sensor, inbound_sheet_schedule_sensor, stock_push_sensor,
           account_partitions_sensor, codeswholesale_partitions_sensor, supplier_feed_refresh_sensor]
