-- The orders to forget (locked, so an import merging one of them waits and then keeps it removed).
INSERT INTO forget_orders (order_id, store_id, account_id, channel_order_id, channel_shipment_id, known)
SELECT o.order_id, o.store_id, o.account_id, o.channel_order_id, o.channel_shipment_id,
       ops.personal_values(o.order_id)
FROM core.orders o
WHERE o.order_id = ANY(CAST(:order_ids AS bigint[]))
ORDER BY o.order_id
FOR UPDATE OF o
