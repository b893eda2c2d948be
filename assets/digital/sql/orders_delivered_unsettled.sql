-- The store's fully digital orders (every item that is still wanted is a digital product) whose buyer has
-- every key, not yet recorded as delivered: each becomes `fulfilled` and its marketplace is told.
SELECT o.order_id, o.order_number, o.channel
FROM core.orders o
WHERE o.store_id = :store_id AND o.digital_delivered_at IS NULL
  AND coalesce(o.status, '') NOT IN ('cancelled', 'refunded')
  AND EXISTS (SELECT 1 FROM ops.digital_units du WHERE du.order_id = o.order_id)
  AND NOT EXISTS (SELECT 1 FROM ops.digital_units du WHERE du.order_id = o.order_id AND du.delivered_at IS NULL)
  AND NOT EXISTS (SELECT 1 FROM core.order_items i
                  WHERE i.order_id = o.order_id
                    AND i.channel_state NOT IN ('confirmed_unavailable', 'declined', 'cancelled', 'canceled', 'returned')
                    AND NOT EXISTS (SELECT 1 FROM ops.digital_products d WHERE d.product_id = i.product_id))
ORDER BY o.order_id
-- Two passes at once settle each order once: one takes it, the other skips it (or, once it committed,
-- no longer finds it unsettled).
FOR UPDATE OF o SKIP LOCKED
