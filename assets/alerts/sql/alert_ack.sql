UPDATE ops.alerts SET acked_at = coalesce(acked_at, now()), acked_by = coalesce(acked_by, :by)
WHERE alert_id = :id
RETURNING alert_id, message, acked_at, acked_by, closed_at
