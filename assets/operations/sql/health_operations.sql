-- Per account of the store and sync operation (ops.sync_log): when it last ran, when it last succeeded
-- (completed without ending on an error), and its last error: the latest row that ended on an error or
-- failed some records, with its time and message (an operation's own failure is its last error line;
-- a trailing "... and N more errors" is skipped). One pass over the store's rows (sync_log_account_started).
WITH rows AS (
    SELECT l.account_id, l.operation, l.started_at, l.completed_at, l.failed, l.records_failed, l.errors,
           l.duration_ms
    FROM ops.accounts a
    JOIN ops.sync_log l ON l.account_id = a.account_id
    WHERE a.store_id = :store_id
), summary AS (
    SELECT account_id, operation, max(started_at) AS last_run_at,
           max(completed_at) FILTER (WHERE completed_at IS NOT NULL AND NOT failed) AS last_success_at,
           bool_or(completed_at IS NULL) AS running
    FROM rows GROUP BY account_id, operation
), last_error AS (
    SELECT DISTINCT ON (account_id, operation) account_id, operation,
           coalesce(completed_at, started_at) AS error_at, failed AS operation_failed, records_failed,
           CASE WHEN errors ->> -1 LIKE '... and % more errors' THEN errors ->> -2 ELSE errors ->> -1 END AS message
    FROM rows
    WHERE failed OR records_failed > 0
    ORDER BY account_id, operation, started_at DESC
)
SELECT s.account_id, s.operation, s.last_run_at, s.last_success_at, s.running,
       e.error_at, e.operation_failed, e.records_failed, e.message
FROM summary s
LEFT JOIN last_error e USING (account_id, operation)
ORDER BY s.account_id, s.operation
