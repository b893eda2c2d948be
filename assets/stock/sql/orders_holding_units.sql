SELECT o.order_number, o.channel, o.sync_status, h.shipped_at, h.units
FROM core.stock_order_units(:s) h JOIN core.orders o USING (order_id)
WHERE h.product_id = :p
ORDER BY h.shipped_at NULLS FIRST, o.order_number
LIMIT 50
