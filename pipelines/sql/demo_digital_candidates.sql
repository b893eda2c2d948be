-- Three products of the demo store's catalog to sell as digital goods: each with a GTIN no other product
-- shares (so its Letzshop units match it) and on no order yet (so no earlier order changes).
SELECT p.product_id, p.sku, p.title
FROM core.products p
JOIN ops.stores s ON s.store_id = p.store_id
WHERE s.code = :c AND p.gtin14 IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM core.products q WHERE q.store_id = p.store_id AND q.gtin14 = p.gtin14
                                                  AND q.product_id <> p.product_id)
  AND NOT EXISTS (SELECT 1 FROM core.order_items i WHERE i.product_id = p.product_id OR i.sku = p.sku)
ORDER BY p.sku
LIMIT :n
