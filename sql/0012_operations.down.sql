-- The repeatable views over these tables (sql/operations_metrics.sql) go first.
DROP VIEW IF EXISTS analytics.integration_metrics;
DROP VIEW IF EXISTS ops.metric_readings;
DROP VIEW IF EXISTS ops.metric_values;
DROP TABLE ops.api_status;
DROP TABLE ops.api_tokens;
DROP TABLE ops.alert_notices;
DROP TABLE ops.notification_routes;
DROP INDEX ops.alerts_store_open;
DROP INDEX ops.alerts_condition_closed;
DROP INDEX ops.alerts_open_condition;
CREATE UNIQUE INDEX alerts_open_streak ON ops.alerts (source, account_id)
    WHERE closed_at IS NULL AND account_id IS NOT NULL;
ALTER TABLE ops.alerts DROP COLUMN acked_by, DROP COLUMN acked_at, DROP COLUMN condition_key,
    DROP COLUMN severity, DROP COLUMN store_id;
DROP TABLE ops.metric_thresholds;
DROP TABLE ops.metric_definitions;
DROP INDEX ops.sync_log_started;
ALTER TABLE ops.sync_log DROP COLUMN failed;
