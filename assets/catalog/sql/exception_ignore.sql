UPDATE ops.order_exceptions
SET status = 'ignored', resolution = :reason, resolved_by = :resolved_by, resolved_at = now()
WHERE exception_id = :exception_id AND status = 'pending'
