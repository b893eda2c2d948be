UPDATE ops.outbound_queue
SET status = 'pending', attempts = 0, next_attempt_at = coalesce(CAST(:now AS timestamptz), now()),
    lease_expires_at = NULL, completed_at = NULL, updated_at = now()
WHERE status = 'dead'
  AND (CAST(:id AS bigint) IS NULL OR outbound_id = :id)
  AND (CAST(:a AS bigint) IS NULL OR account_id = :a)
