-- The demo store lists its Letzshop feed's products: each of its products with a barcode of its own (so
-- none inherits one) and no catalog product yet is linked to the feed product of its SKU, whose price
-- and texts it then sells with.
UPDATE core.products p SET marketplace_product_id = m.marketplace_product_id, updated_at = now()
FROM core.marketplace_products m
JOIN ops.catalog_sources s USING (source_id)
WHERE s.store_id = :s AND s.kind = 'letzshop_feed' AND m.external_id = p.sku
  AND p.store_id = :s AND p.marketplace_product_id IS NULL AND p.gtin14 IS NOT NULL AND NOT p.is_placeholder;
