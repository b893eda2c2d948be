SELECT merchant_outbound_number, outbound_id FROM core.fulfillment_outbounds
WHERE account_id = :a AND outbound_id IS NOT NULL AND coalesce(status, '') NOT IN ('Shipped', 'Canceled')
