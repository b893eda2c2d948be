UPDATE core.order_items SET channel_state = :s, updated_at = now()
WHERE order_id = :o AND channel_item_id = ANY(:u)
