DROP TRIGGER IF EXISTS order_status ON core.orders;
DROP FUNCTION IF EXISTS core.order_status_from_channel();
ALTER TABLE core.orders DROP COLUMN IF EXISTS status;
DROP TABLE IF EXISTS core.order_status_map;
