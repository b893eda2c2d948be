-- The CodesWholesale products the demo store's price list holds at a price.
SELECT m.external_id
FROM core.marketplace_products m
JOIN ops.catalog_sources c USING (source_id)
JOIN ops.stores s ON s.store_id = c.store_id
WHERE s.code = :c AND c.kind = 'codeswholesale' AND m.price > 0
