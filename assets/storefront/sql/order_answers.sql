-- What the API answers about each order: its ids, states and lines (no buyer data). Driven by the ids
-- (index probes whatever the statistics say).
SELECT o.order_id, o.channel_shipment_id AS order_number, o.channel_state, o.status, o.total, o.currency,
       (SELECT json_agg(json_build_object('line', i.channel_item_id::integer, 'sku', i.sku, 'quantity', i.quantity,
                                          'matched', i.product_id IS NOT NULL) ORDER BY i.channel_item_id::integer)
        FROM core.order_items i WHERE i.order_id = o.order_id) AS items
FROM unnest(CAST(:order_ids AS bigint[])) AS x(order_id)
JOIN core.orders o ON o.order_id = x.order_id
