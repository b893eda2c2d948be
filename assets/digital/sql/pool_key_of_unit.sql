-- The key an order item unit already has (from the pool or the supplier), if any.
SELECT digital_key_id FROM ops.digital_keys WHERE order_item_id = :o AND unit = :u
