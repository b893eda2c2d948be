UPDATE raw.letzshop_shipments r SET payload = ops.scrub_personal_json(r.payload, f.known)
FROM forget_orders f
WHERE r.account_id = f.account_id AND r.shipment_id = f.channel_shipment_id
