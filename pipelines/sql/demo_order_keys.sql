SELECT k.digital_key_id
FROM ops.digital_keys k JOIN core.order_items i USING (order_item_id)
WHERE i.order_id = :o
ORDER BY k.digital_key_id
