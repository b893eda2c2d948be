SELECT order_id FROM core.orders WHERE account_id = :a AND channel_shipment_id = :number
