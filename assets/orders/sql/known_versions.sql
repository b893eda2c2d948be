SELECT channel_shipment_id, source_payload_sha FROM core.orders
WHERE account_id = :a AND channel_shipment_id = ANY(:ids)
