SELECT l.sync_id, l.account_id, s.code AS store, a.channel, l.operation, l.direction,
       l.records_processed, l.records_succeeded, l.records_failed, l.errors,
       l.started_at, l.completed_at, l.duration_ms, l.triggered_by, l.run_id
FROM ops.sync_log l
LEFT JOIN ops.accounts a USING (account_id)
LEFT JOIN ops.stores s ON s.store_id = a.store_id
WHERE CAST(:store AS text) IS NULL OR s.code = :store
ORDER BY l.started_at DESC, l.sync_id DESC
LIMIT :lim
