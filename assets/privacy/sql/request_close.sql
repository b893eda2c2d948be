UPDATE ops.privacy_requests
SET orders = :orders, rows_changed = CAST(:rows AS jsonb), completed_at = clock_timestamp()
WHERE request_id = :request_id
