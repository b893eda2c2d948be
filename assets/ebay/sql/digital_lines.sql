-- The order's line items of digital products that are still wanted: what a download fulfils.
SELECT i.channel_item_id AS line_item_id, i.quantity
FROM core.order_items i
JOIN ops.digital_products d ON d.product_id = i.product_id
WHERE i.order_id = :o AND i.channel_state NOT IN ('cancelled', 'canceled', 'returned')
ORDER BY i.channel_item_id
