SELECT jsonb_build_object('shipment_id', r.shipment_id, 'received_at', r.received_at, 'payload', r.payload)
FROM raw.letzshop_shipments r
JOIN core.orders o ON o.account_id = r.account_id AND o.channel_shipment_id = r.shipment_id
WHERE o.order_id = ANY(CAST(:order_ids AS bigint[])) ORDER BY r.raw_id
