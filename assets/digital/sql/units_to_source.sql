-- Units of digital products on the store's confirmed, not cancelled orders that have neither a key nor a
-- purchase yet, with where their keys may come from and the price list's price of the supplier product.
SELECT i.order_item_id, u.unit, i.product_id, d.sources, d.supplier_product_id,
       (SELECT min(m.price) FROM core.marketplace_products m JOIN ops.catalog_sources c USING (source_id)
        WHERE c.store_id = o.store_id AND c.kind = 'codeswholesale' AND m.external_id = d.supplier_product_id
          AND m.price > 0) AS listed_unit_price
FROM core.orders o
JOIN core.order_items i ON i.order_id = o.order_id
JOIN ops.digital_products d ON d.product_id = i.product_id
CROSS JOIN LATERAL generate_series(1, i.quantity) AS u(unit)
WHERE o.store_id = :store_id
  AND (o.status IN ('confirmed', 'processing') OR o.sync_status IN ('confirming', 'confirmed'))
  AND coalesce(o.status, '') NOT IN ('cancelled', 'refunded')
  AND NOT EXISTS (SELECT 1 FROM ops.digital_keys k WHERE k.order_item_id = i.order_item_id AND k.unit = u.unit)
  AND NOT EXISTS (SELECT 1 FROM ops.digital_purchases p WHERE p.order_item_id = i.order_item_id AND p.unit = u.unit)
ORDER BY o.order_id, i.order_item_id, u.unit
LIMIT :limit
