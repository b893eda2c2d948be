SELECT to_jsonb(a) FROM core.order_addresses a
WHERE a.order_id = ANY(CAST(:order_ids AS bigint[])) ORDER BY a.order_id, a.kind
