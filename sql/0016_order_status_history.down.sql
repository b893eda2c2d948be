DROP VIEW IF EXISTS analytics.order_status_history;
DROP TRIGGER status_history ON core.orders;
DROP FUNCTION core.record_order_status_change();
DROP TABLE core.order_status_history;
