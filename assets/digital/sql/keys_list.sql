-- A store's keys (optionally one SKU's), oldest first, with where each stands: in the pool, assigned to
-- an order item unit, or delivered to the buyer.
SELECT k.digital_key_id, p.sku, k.source, k.kind, k.token,
       CASE WHEN k.delivered_at IS NOT NULL THEN 'delivered'
            WHEN k.order_item_id IS NOT NULL THEN 'assigned'
            ELSE 'in_pool' END AS state,
       k.order_item_id, k.unit, k.imported_at, k.assigned_at, k.delivered_at, k.delivered_via
FROM ops.digital_keys k
JOIN core.products p ON p.product_id = k.product_id
WHERE k.store_id = :s AND (CAST(:sku AS text) IS NULL OR p.sku = :sku)
ORDER BY p.sku, k.digital_key_id
