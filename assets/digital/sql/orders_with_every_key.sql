-- The store's orders whose every digital unit has its key and at least one key is not delivered yet.
SELECT o.order_id
FROM core.orders o
WHERE o.store_id = :store_id
  AND EXISTS (SELECT 1 FROM core.order_items i JOIN ops.digital_products d ON d.product_id = i.product_id
              WHERE i.order_id = o.order_id)
  AND NOT EXISTS (
      SELECT 1 FROM core.order_items i JOIN ops.digital_products d ON d.product_id = i.product_id
      CROSS JOIN LATERAL generate_series(1, i.quantity) AS u(unit)
      WHERE i.order_id = o.order_id
        AND NOT EXISTS (SELECT 1 FROM ops.digital_keys k WHERE k.order_item_id = i.order_item_id AND k.unit = u.unit))
  AND EXISTS (SELECT 1 FROM ops.digital_keys k JOIN core.order_items i USING (order_item_id)
              WHERE i.order_id = o.order_id AND k.delivered_at IS NULL)
ORDER BY o.order_id
