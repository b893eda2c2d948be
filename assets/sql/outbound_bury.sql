-- Dead-letter the item. Fenced on (status, attempts) like outbound_succeed.sql.
UPDATE ops.outbound_queue
SET status = 'dead', completed_at = coalesce(CAST(:now AS timestamptz), clock_timestamp()), lease_expires_at = NULL,
    outcome_unknown = outcome_unknown OR :unknown, last_error = :error,
    updated_at = coalesce(CAST(:now AS timestamptz), clock_timestamp())
WHERE outbound_id = :id AND status = 'in_flight' AND attempts = :attempt
