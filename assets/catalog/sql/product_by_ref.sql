-- A real product of the store named by its SKU or by its product id. A SKU wins when both exist:
-- SKUs are what people type, and an all-digit SKU must stay reachable.
SELECT p.product_id, p.sku
FROM core.products p
WHERE p.store_id = :store_id
  AND NOT p.is_placeholder
  AND (p.sku = :ref OR p.product_id = CAST(:product_id AS bigint))
ORDER BY p.sku = :ref DESC
LIMIT 1
