-- The store's digital products: where their keys come from, the guards, the price list's price of the
-- supplier product (NULL: the price list does not carry it, so it is never bought) and the pool's keys.
SELECT p.sku, d.sources, d.supplier_product_id,
       (SELECT min(m.price) FROM core.marketplace_products m JOIN ops.catalog_sources c USING (source_id)
        WHERE c.store_id = d.store_id AND c.kind = 'codeswholesale' AND m.external_id = d.supplier_product_id
          AND m.price > 0) AS listed_price,
       d.max_unit_cost, d.price_margin_percent, d.low_pool_threshold,
       (SELECT count(*) FROM ops.digital_keys k
        WHERE k.product_id = d.product_id AND k.order_item_id IS NULL) AS pool_keys
FROM ops.digital_products d
JOIN core.products p ON p.product_id = d.product_id
WHERE d.store_id = :s
ORDER BY p.sku
