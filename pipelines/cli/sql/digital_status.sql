-- Per store: digital units on confirmed (or since fulfilled) orders, their keys by source, delivered, and purchases by status
-- (with the reason of those waiting or refused).
WITH units AS (
    -- Units that want a key (ops.digital_units) on orders confirmed since, fulfilled or shipped included.
    SELECT du.store_id, du.order_item_id, du.unit
    FROM ops.digital_units du
    JOIN core.orders o ON o.order_id = du.order_id
    WHERE (o.status IN ('confirmed', 'processing', 'shipped', 'delivered', 'fulfilled')
           OR o.sync_status IN ('confirming', 'confirmed', 'shipped'))
      AND coalesce(o.status, '') NOT IN ('cancelled', 'refunded')
)
SELECT s.code AS store,
       count(*) AS units,
       count(k.digital_key_id) FILTER (WHERE k.source = 'pool') AS from_pool,
       count(k.digital_key_id) FILTER (WHERE k.source = 'supplier') AS bought,
       count(k.delivered_at) AS delivered,
       count(p.purchase_id) FILTER (WHERE p.status IN ('intent', 'sent', 'outcome_unknown', 'fulfilling'))
           AS purchases_open,
       count(p.purchase_id) FILTER (WHERE p.status = 'waiting') AS purchases_waiting,
       count(p.purchase_id) FILTER (WHERE p.status = 'refused') AS purchases_refused,
       array_remove(array_agg(DISTINCT p.reason), NULL) AS reasons
FROM units u
JOIN ops.stores s ON s.store_id = u.store_id
LEFT JOIN ops.digital_keys k ON k.order_item_id = u.order_item_id AND k.unit = u.unit
LEFT JOIN ops.digital_purchases p ON p.order_item_id = u.order_item_id AND p.unit = u.unit
WHERE CAST(:store AS text) IS NULL OR s.code = :store
GROUP BY s.code
ORDER BY s.code
