SELECT run_id FROM ops.sync_log
WHERE completed_at IS NULL AND run_id IS NOT NULL
GROUP BY run_id
ORDER BY min(started_at)
LIMIT :lim
