UPDATE ops.privacy_requests
SET orders = :orders, rows_changed = CAST(:rows AS jsonb), completed_at = now()
WHERE request_id = :request_id
