SELECT al.alert_id, al.source, al.severity, s.code AS store, a.channel, al.message, al.occurrences,
       al.created_at, al.last_seen_at, al.closed_at, al.acked_at, al.acked_by, al.run_id, al.job_name
FROM ops.alerts al
LEFT JOIN ops.stores s ON s.store_id = al.store_id
LEFT JOIN ops.accounts a ON a.account_id = al.account_id
WHERE (CAST(:store AS text) IS NULL OR s.code = :store)
  AND (:closed OR al.closed_at IS NULL)
  AND (CAST(:since AS timestamptz) IS NULL OR al.last_seen_at >= :since)
ORDER BY al.closed_at IS NULL DESC, al.severity = 'error' DESC, al.last_seen_at DESC
LIMIT :lim
