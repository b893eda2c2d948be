SELECT client_order_id FROM ops.digital_purchases WHERE store_id = :s ORDER BY purchase_id
