UPDATE ops.privacy_requests SET completed_at = clock_timestamp() WHERE request_id = :request_id
