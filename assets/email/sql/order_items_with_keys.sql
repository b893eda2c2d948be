-- The order's items that have a key.
SELECT DISTINCT k.order_item_id
FROM ops.digital_keys k
JOIN core.order_items i ON i.order_item_id = k.order_item_id
WHERE i.order_id = :o
ORDER BY k.order_item_id
