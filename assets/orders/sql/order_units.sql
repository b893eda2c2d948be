SELECT order_item_id, channel_item_id, sku, gtin14, title, channel_state, match_status
FROM core.order_items
WHERE order_id = :o
ORDER BY order_item_id
