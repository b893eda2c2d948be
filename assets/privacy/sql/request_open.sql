INSERT INTO ops.privacy_requests (store_id, kind, requested_by) VALUES (:store_id, :kind, :by)
RETURNING request_id
