-- A new account, or the existing one with a new endpoint or interval when given; :st, the settings
-- already merged by the caller, replace the stored ones.
INSERT INTO ops.accounts (store_id, channel, endpoint, sync_interval_minutes, settings)
VALUES (:s, :ch, :e, coalesce(:i, 15), CAST(:st AS jsonb))
ON CONFLICT (store_id, channel) DO UPDATE SET
  endpoint = coalesce(:e, ops.accounts.endpoint),
  sync_interval_minutes = coalesce(:i, ops.accounts.sync_interval_minutes),
  settings = excluded.settings, updated_at = now()
