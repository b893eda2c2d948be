INSERT INTO core.fulfillment_outbounds (account_id, merchant_outbound_number, order_id, status)
VALUES (:a, :n, :o, 'queued')
ON CONFLICT DO NOTHING
