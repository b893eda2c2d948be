-- The returned columns are QueuedItem's field names, filled in by assets/outbound_queue.py.
UPDATE ops.outbound_queue
SET status = 'in_flight', attempts = attempts + 1,
    lease_expires_at = coalesce(CAST(:now AS timestamptz), clock_timestamp()) + make_interval(secs => :lease),
    -- a lease that expired is a worker that died mid-attempt: from now on the outcome is unknown
    outcome_unknown = outcome_unknown OR :lease_expired,
    updated_at = coalesce(CAST(:now AS timestamptz), clock_timestamp())
WHERE outbound_id = :id
RETURNING {columns}
