-- The keys on the order's items named by a delivery, with what the buyer sees of each product.
SELECT k.digital_key_id, k.order_item_id, k.unit, k.kind, k.delivered_at,
       COALESCE(NULLIF(i.title, ''), p.title, i.sku, p.sku) AS title
FROM ops.digital_keys k
JOIN core.order_items i ON i.order_item_id = k.order_item_id
LEFT JOIN core.products p ON p.product_id = k.product_id
WHERE i.order_id = :o AND k.order_item_id = ANY(:items)
ORDER BY k.order_item_id, k.unit
