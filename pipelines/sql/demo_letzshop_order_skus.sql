SELECT DISTINCT i.sku
FROM core.order_items i JOIN core.orders o USING (order_id) JOIN ops.stores s USING (store_id)
WHERE s.code = :c AND o.channel = 'letzshop' AND i.sku IS NOT NULL
ORDER BY 1
