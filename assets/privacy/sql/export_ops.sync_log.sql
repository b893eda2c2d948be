SELECT jsonb_build_object('operation', l.operation, 'started_at', l.started_at, 'errors', l.errors)
FROM ops.sync_log l JOIN ops.accounts a ON a.account_id = l.account_id
WHERE a.store_id = :store_id AND ops.mentions_personal(l.errors::text, CAST(:known AS text[]))
ORDER BY l.sync_id
