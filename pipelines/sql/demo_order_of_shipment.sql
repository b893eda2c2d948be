SELECT order_id FROM core.orders WHERE store_id = :s AND channel = 'letzshop' AND channel_shipment_id = :sh
