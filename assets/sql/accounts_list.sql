SELECT a.account_id, a.store_id, s.code AS store, a.channel, a.endpoint,
       a.sync_interval_minutes, a.settings, a.enabled, a.last_synced_at
FROM ops.accounts a JOIN ops.stores s USING (store_id)
WHERE (CAST(:ch AS text) IS NULL OR a.channel = :ch)
  AND (CAST(:s AS text) IS NULL OR s.code = :s)
ORDER BY s.code, a.channel
