-- Fenced on (status, attempts) like outbound_succeed.sql.
UPDATE ops.outbound_queue
SET status = 'pending',
    next_attempt_at = coalesce(CAST(:now AS timestamptz), clock_timestamp()) + make_interval(secs => :delay),
    lease_expires_at = NULL, outcome_unknown = outcome_unknown OR :unknown, last_error = :error,
    updated_at = coalesce(CAST(:now AS timestamptz), clock_timestamp())
WHERE outbound_id = :id AND status = 'in_flight' AND attempts = :attempt
