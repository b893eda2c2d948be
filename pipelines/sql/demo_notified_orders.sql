-- The demo store's orders that the new-order notices must cover: followed up, placed recently enough
-- to be news (assets/alerts/new_orders.py MAX_AGE_HOURS).
SELECT count(*) AS orders
FROM core.orders o
JOIN ops.stores s ON s.store_id = o.store_id
WHERE s.code = :c AND o.followed_up_at IS NOT NULL
  AND (o.ordered_at IS NULL OR o.ordered_at > now() - interval '48 hours')
