SELECT channel_shipment_id, order_id FROM core.orders WHERE account_id = :a AND channel_shipment_id = ANY(:numbers)
