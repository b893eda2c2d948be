-- Sync operations started in each hour of the last 24 (ops.sync_log_started): how many ran, how many ended
-- on an error, and how long the completed ones took (median, 95th percentile, longest), in milliseconds.
WITH hours AS (
    SELECT generate_series(date_trunc('hour', now()) - interval '23 hours', date_trunc('hour', now()),
                           interval '1 hour') AS hour
), runs AS (
    SELECT date_trunc('hour', l.started_at) AS hour, count(*) AS runs, count(*) FILTER (WHERE l.failed) AS failed,
           percentile_disc(0.5) WITHIN GROUP (ORDER BY l.duration_ms) AS p50_ms,
           percentile_disc(0.95) WITHIN GROUP (ORDER BY l.duration_ms) AS p95_ms,
           max(l.duration_ms) AS max_ms
    FROM ops.sync_log l
    WHERE l.started_at >= date_trunc('hour', now()) - interval '23 hours'
      AND (CAST(:store_id AS bigint) IS NULL
           OR l.account_id IN (SELECT a.account_id FROM ops.accounts a WHERE a.store_id = :store_id))
    GROUP BY 1
)
SELECT h.hour, coalesce(r.runs, 0) AS runs, coalesce(r.failed, 0) AS failed, r.p50_ms, r.p95_ms, r.max_ms
FROM hours h
LEFT JOIN runs r ON r.hour = h.hour
ORDER BY h.hour
