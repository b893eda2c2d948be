-- What the API answers about each order: its ids, states and lines (no buyer data).
SELECT o.order_id, o.channel_shipment_id AS order_number, o.channel_state, o.status, o.total, o.currency,
       json_agg(json_build_object('line', i.channel_item_id::integer, 'sku', i.sku, 'quantity', i.quantity,
                                  'matched', i.product_id IS NOT NULL) ORDER BY i.channel_item_id::integer) AS items
FROM core.orders o
JOIN core.order_items i ON i.order_id = o.order_id
WHERE o.order_id = ANY(:order_ids)
GROUP BY o.order_id
