SELECT p.store_id, p.product_id, p.title, p.is_placeholder
FROM core.products p JOIN ops.stores s USING (store_id)
WHERE s.code = :store AND p.sku = :sku
