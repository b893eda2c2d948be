-- Sync operations started in each hour of the last 24 (ops.sync_log_started): how many ran, how many ended on
-- an error, the longest, and the completed ones' durations as a histogram of 5% wide buckets (bucket b holds
-- durations in [1.05^b, 1.05^(b+1)) ms), from which the caller reads the median and the 95th percentile to
-- within 2.5%. Hashed, never sorted: a day of a thousand stores is some 300,000 rows.
SELECT date_trunc('hour', l.started_at) AS hour,
       CASE WHEN l.duration_ms IS NOT NULL
            THEN floor(ln(greatest(l.duration_ms, 1)) / ln(1.05))::integer END AS bucket,  -- NULL: still running
       count(*) AS runs, count(*) FILTER (WHERE l.failed) AS failed, max(l.duration_ms) AS max_ms
FROM ops.sync_log l
WHERE l.started_at >= date_trunc('hour', now()) - interval '23 hours'
  AND (CAST(:store_id AS bigint) IS NULL
       OR l.account_id IN (SELECT a.account_id FROM ops.accounts a WHERE a.store_id = :store_id))
GROUP BY 1, 2
