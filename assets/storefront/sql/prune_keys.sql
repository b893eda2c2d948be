-- Forget Idempotency-Keys older than the retention: a shop retries within minutes, not days.
DELETE FROM ops.api_idempotency_keys WHERE account_id = :a AND created_at < now() - make_interval(days => :days)
