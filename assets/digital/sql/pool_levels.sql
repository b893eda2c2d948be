-- Per product of the store that sells from the pool: its unassigned keys (the merchant's, and spare bought
-- ones) against its alert threshold.
SELECT d.product_id, p.sku, d.sources, d.low_pool_threshold AS threshold,
       (SELECT count(*) FROM ops.digital_keys k
        WHERE k.store_id = d.store_id AND k.product_id = d.product_id
          AND k.order_item_id IS NULL) AS unassigned
FROM ops.digital_products d
JOIN core.products p ON p.product_id = d.product_id
WHERE d.store_id = :s AND d.sources IN ('pool_then_supplier', 'pool_only')
ORDER BY p.sku
