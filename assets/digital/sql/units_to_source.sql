-- Units of digital products on the store's confirmed, not cancelled orders that have neither a key nor a
-- purchase yet (a unit the channel declined, cancelled or returned wants none), with where their keys may
-- come from and the price list's price of the supplier product.
-- The units are gathered first (MATERIALIZED): the planner cannot know how many rows generate_series
-- gives per item, and with the anti-joins folded in it picked nested loops that grew with the square of
-- the backlog (47 s at 20,000 lines); gathered apart, each unit is checked by the unique indexes.
WITH units AS MATERIALIZED (
    SELECT o.order_id, i.order_item_id, u.unit, i.product_id, d.sources, d.supplier_product_id
    FROM core.orders o
    JOIN core.order_items i ON i.order_id = o.order_id
    JOIN ops.digital_products d ON d.product_id = i.product_id
    CROSS JOIN LATERAL generate_series(1, i.quantity) AS u(unit)
    WHERE o.store_id = :store_id
      AND (o.status IN ('confirmed', 'processing') OR o.sync_status IN ('confirming', 'confirmed'))
      AND coalesce(o.status, '') NOT IN ('cancelled', 'refunded')
      AND i.channel_state NOT IN ('confirmed_unavailable', 'declined', 'cancelled', 'canceled', 'returned')
)
SELECT u.order_item_id, u.unit, u.product_id, u.sources, u.supplier_product_id,
       (SELECT min(m.price) FROM core.marketplace_products m JOIN ops.catalog_sources c USING (source_id)
        WHERE c.store_id = :store_id AND c.kind = 'codeswholesale' AND m.external_id = u.supplier_product_id
          AND m.price > 0) AS listed_unit_price
FROM units u
WHERE NOT EXISTS (SELECT 1 FROM ops.digital_keys k WHERE k.order_item_id = u.order_item_id AND k.unit = u.unit)
  AND NOT EXISTS (SELECT 1 FROM ops.digital_purchases p WHERE p.order_item_id = u.order_item_id AND p.unit = u.unit)
ORDER BY u.order_id, u.order_item_id, u.unit
LIMIT :limit
