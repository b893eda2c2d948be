DROP TRIGGER IF EXISTS order_status ON core.orders;
DROP FUNCTION IF EXISTS core.order_status_from_channel();
-- analytics.orders shows the column; views come back with the next upgrade to head.
DROP VIEW IF EXISTS analytics.orders;
ALTER TABLE core.orders DROP COLUMN IF EXISTS status;
DROP TABLE IF EXISTS core.order_status_map, raw.channel_orders, ops.order_cursors;
