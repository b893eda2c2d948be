UPDATE raw.channel_orders r SET payload = ops.scrub_personal_json(r.payload, f.known)
FROM forget_orders f
WHERE r.account_id = f.account_id AND r.channel_order_id = f.channel_shipment_id
