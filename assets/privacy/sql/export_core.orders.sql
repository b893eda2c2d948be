SELECT to_jsonb(o) FROM core.orders o WHERE o.order_id = ANY(CAST(:order_ids AS bigint[])) ORDER BY o.order_id
