SELECT count(*) FROM ops.outbound_queue
WHERE operation = ANY(:ops) AND account_id = ANY(CAST(:a AS bigint[]))
  AND status = 'pending' AND next_attempt_at <= coalesce(CAST(:now AS timestamptz), clock_timestamp())
