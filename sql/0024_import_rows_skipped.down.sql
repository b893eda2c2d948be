-- analytics.import_runs and analytics.feed_import_health come back with the next upgrade to head.
DROP VIEW IF EXISTS analytics.import_runs, analytics.feed_import_health;
ALTER TABLE ops.import_runs DROP COLUMN IF EXISTS rows_skipped;
