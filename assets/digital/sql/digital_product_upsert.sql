-- A store's product sold as a digital good, with where its keys come from and the guards on buying it.
INSERT INTO ops.digital_products (product_id, store_id, supplier_product_id, sources, max_unit_cost,
                                  price_margin_percent, low_pool_threshold)
VALUES (:p, :s, :supplier_product_id, :sources, :max_unit_cost, :price_margin_percent, :low_pool_threshold)
ON CONFLICT (product_id) DO UPDATE
SET supplier_product_id = excluded.supplier_product_id, sources = excluded.sources,
    max_unit_cost = excluded.max_unit_cost, price_margin_percent = excluded.price_margin_percent,
    low_pool_threshold = excluded.low_pool_threshold, updated_at = now()
