SELECT count(*) FILTER (WHERE status = 'pending') AS pending,
       count(*) FILTER (WHERE status = 'in_flight') AS in_flight,
       count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
       count(*) FILTER (WHERE status = 'dead') AS dead,
       count(*) AS total,
       count(*) FILTER (WHERE status = 'pending' AND next_attempt_at <= now()) AS due,
       count(*) FILTER (WHERE status = 'in_flight' AND lease_expires_at < now()) AS stale_in_flight,
       count(*) FILTER (WHERE outcome_unknown AND status <> 'succeeded') AS outcome_unknown,
       min(next_attempt_at) FILTER (WHERE status = 'pending') AS next_attempt_at
FROM ops.outbound_queue
