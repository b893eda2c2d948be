-- Sell a product of the demo store as a digital good: where its keys come from.
INSERT INTO ops.digital_products (product_id, store_id, supplier_product_id, sources, low_pool_threshold)
VALUES (:p, :s, :sp, :src, 2)
ON CONFLICT (product_id) DO UPDATE
SET supplier_product_id = excluded.supplier_product_id, sources = excluded.sources, updated_at = now()
