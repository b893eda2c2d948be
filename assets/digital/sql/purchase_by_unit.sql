SELECT purchase_id FROM ops.digital_purchases WHERE order_item_id = :order_item_id AND unit = :unit
