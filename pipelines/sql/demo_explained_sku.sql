-- A listing with open orders explains best: reservations, FFN stock, feed stock all show.
SELECT p.sku
FROM core.order_items i JOIN core.orders o USING (order_id) JOIN core.products p USING (product_id)
WHERE o.store_id = :s AND o.sync_status IN ('imported', 'confirming', 'confirmed')
GROUP BY p.sku
ORDER BY count(*) DESC, p.sku
LIMIT 1
