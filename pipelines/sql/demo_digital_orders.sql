-- The demo's digital orders: their status, and per unit where its key came from and when it was sent.
SELECT o.order_id, o.order_number, o.status, o.sync_status, i.sku, k.source, k.kind, k.delivered_at
FROM core.orders o
JOIN core.order_items i ON i.order_id = o.order_id
LEFT JOIN ops.digital_keys k ON k.order_item_id = i.order_item_id
WHERE o.order_id = ANY(:ids)
ORDER BY o.order_id, i.order_item_id
