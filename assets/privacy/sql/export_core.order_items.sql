SELECT to_jsonb(i) - 'product_id' FROM core.order_items i
WHERE i.order_id = ANY(CAST(:order_ids AS bigint[])) ORDER BY i.order_item_id
