"""Every sensor of the code location, listed once (pipelines/definitions.py takes them from here)."""
from marketsync.sensors.auto_sync import order_auto_sync_sensor
from marketsync.sensors.codeswholesale_partitions import codeswholesale_partitions_sensor
from marketsync.sensors.digital_orders import digital_orders_sensor
from marketsync.sensors.failures import run_failure_alert_sensor, sync_log_sweep_sensor
from marketsync.sensors.feed_refresh import supplier_feed_refresh_sensor
from marketsync.sensors.inbound_sheet_schedule import inbound_sheet_schedule_sensor
from marketsync.sensors.new_orders import new_orders_sensor
from marketsync.sensors.outbound import outbound_queue_sensor
from marketsync.sensors.partitions import account_partitions_sensor
from marketsync.sensors.reconciliation import reconciliation_sensor
from marketsync.sensors.stock_push import stock_push_sensor
from marketsync.sensors.webhook_inbox import feed_inbox_sensor

sensors = [order_auto_sync_sensor, new_orders_sensor, outbound_queue_sensor, feed_inbox_sensor,
           run_failure_alert_sensor, sync_log_sweep_sensor, inbound_sheet_schedule_sensor, stock_push_sensor,
           account_partitions_sensor, codeswholesale_partitions_sensor, supplier_feed_refresh_sensor,
           digital_orders_sensor, reconciliation_sensor]
