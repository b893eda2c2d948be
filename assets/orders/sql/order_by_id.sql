SELECT o.order_id, o.account_id, s.code AS store, o.channel, o.order_number, o.channel_shipment_id,
       o.shipment_number, o.sync_status, o.channel_state, o.tracking_number, o.tracking_carrier
FROM core.orders o JOIN ops.stores s USING (store_id)
WHERE o.order_id = :id
