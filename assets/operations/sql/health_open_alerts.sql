-- The store's open alerts (ops.alerts_store_open), with the integration each is about: a threshold alert
-- names it in its condition key ("metric:<metric>:<store_id>:<integration>"), another alert by its
-- account's channel; an alert of neither is about the store as a whole.
SELECT al.alert_id, al.store_id, al.account_id, al.source, al.severity, al.message, al.occurrences,
       al.created_at, al.last_seen_at, al.acked_at, al.condition_key,
       coalesce(substring(al.condition_key FROM '^metric:[a-z0-9_]+:[0-9]+:(.*)$'), a.channel, 'store') AS integration
FROM ops.alerts al
LEFT JOIN ops.accounts a ON a.account_id = al.account_id
WHERE al.closed_at IS NULL
  AND (CAST(:store_id AS bigint) IS NULL OR al.store_id = :store_id)
ORDER BY al.severity = 'error' DESC, al.last_seen_at DESC
