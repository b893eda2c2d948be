-- Order payloads of the store that never became an order (each is quarantined as unreadable) and were
-- quarantined before the store's retention period.
UPDATE raw.channel_orders r SET payload = ops.scrub_personal_json(r.payload)
FROM ops.accounts a, ops.quarantine q
WHERE a.store_id = :store_id AND q.account_id = a.account_id AND q.created_at < :cutoff
  AND r.account_id = q.account_id AND r.channel_order_id = q.record_ref
  AND r.payload IS DISTINCT FROM ops.scrub_personal_json(r.payload)
