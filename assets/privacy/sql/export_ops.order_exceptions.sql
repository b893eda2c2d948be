SELECT to_jsonb(e) - 'resolved_product_id' FROM ops.order_exceptions e
WHERE e.order_id = ANY(CAST(:order_ids AS bigint[])) ORDER BY e.exception_id
