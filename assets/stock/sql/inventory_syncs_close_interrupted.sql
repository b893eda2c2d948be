UPDATE ops.inventory_syncs
SET status = 'failed', finished_at = now(), errors = errors || '["interrupted"]'::jsonb
WHERE account_id = :a AND status = 'running'
