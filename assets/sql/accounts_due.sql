-- Enabled accounts of the given channels whose sync interval has elapsed (a pushed channel's: a day),
-- plus the named (channel, store) accounts whatever their last sync (those with a failure to retry).
-- Idle accounts are filtered here, so the auto-sync sensor's work per tick follows what is due.
SELECT a.account_id, a.store_id, s.code AS store, a.channel, a.endpoint,
       a.sync_interval_minutes, a.settings, a.enabled, a.last_synced_at
FROM ops.accounts a JOIN ops.stores s USING (store_id)
WHERE a.enabled
  AND a.channel = ANY(:channels)
  AND (a.last_synced_at IS NULL
       OR a.last_synced_at <= CAST(:now AS timestamptz) - make_interval(
              mins => CASE WHEN a.channel = ANY(:pushed) THEN :pushed_minutes ELSE a.sync_interval_minutes END)
       OR (a.channel || ':' || s.code) = ANY(:named))
ORDER BY s.code, a.channel
