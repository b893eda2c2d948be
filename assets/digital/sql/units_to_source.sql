-- Units of digital products on the store's confirmed, not cancelled orders that have neither a key nor a
-- purchase yet (a unit the channel declined, cancelled or returned wants none: ops.digital_units), with
-- where their keys may come from and the price list's price of the supplier product.
SELECT du.order_item_id, du.unit, du.product_id, d.sources, d.supplier_product_id,
       (SELECT min(m.price) FROM core.marketplace_products m JOIN ops.catalog_sources c USING (source_id)
        WHERE c.store_id = o.store_id AND c.kind = 'codeswholesale' AND m.external_id = d.supplier_product_id
          AND m.price > 0) AS listed_unit_price
FROM ops.digital_units du
JOIN core.orders o ON o.order_id = du.order_id
JOIN ops.digital_products d ON d.product_id = du.product_id
WHERE du.store_id = :store_id AND du.digital_key_id IS NULL
  AND (o.status IN ('confirmed', 'processing') OR o.sync_status IN ('confirming', 'confirmed'))
  AND coalesce(o.status, '') NOT IN ('cancelled', 'refunded')
  AND NOT EXISTS (SELECT 1 FROM ops.digital_purchases p WHERE p.order_item_id = du.order_item_id AND p.unit = du.unit)
ORDER BY du.order_id, du.order_item_id, du.unit
LIMIT :limit
