UPDATE ops.feed_inbox SET status = 'failed', applied_at = now(), error = :e
WHERE inbox_id = :i AND status = 'pending'
