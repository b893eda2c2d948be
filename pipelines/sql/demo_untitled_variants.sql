-- The variants a feed source imported that have no title in any language.
SELECT count(*)
FROM core.marketplace_products m
JOIN ops.catalog_sources s ON s.source_id = m.source_id
JOIN ops.stores st ON st.store_id = s.store_id
WHERE st.code = :store AND s.name = :source
  AND NOT EXISTS (SELECT 1 FROM core.marketplace_product_translations t
                  WHERE t.marketplace_product_id = m.marketplace_product_id AND t.title IS NOT NULL)
