from sensors.auto_sync import letzshop_auto_sync_sensor
from sensors.channel_partitions import channel_partitions_sensor
from sensors.failures import run_failure_alert_sensor
from sensors.inbound_sheet_schedule import inbound_sheet_schedule_sensor
from sensors.jtl_ffn_partitions import jtl_ffn_partitions_sensor
from sensors.new_orders import new_orders_sensor
from sensors.outbound import outbound_queue_sensor
from sensors.stock_push import stock_push_sensor
from sensors.webhook_inbox import feed_inbox_sensor

sensors = [letzshop_auto_sync_sensor, new_orders_sensor, outbound_queue_sensor, feed_inbox_sensor,
           run_failure_alert_sensor, inbound_sheet_schedule_sensor, jtl_ffn_partitions_sensor,
           stock_push_sensor, channel_partitions_sensor]
