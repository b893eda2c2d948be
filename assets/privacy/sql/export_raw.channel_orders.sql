SELECT jsonb_build_object('channel_order_id', r.channel_order_id, 'received_at', r.received_at, 'payload', r.payload)
FROM raw.channel_orders r
JOIN core.orders o ON o.account_id = r.account_id AND o.channel_shipment_id = r.channel_order_id
WHERE o.order_id = ANY(CAST(:order_ids AS bigint[])) ORDER BY r.raw_id
