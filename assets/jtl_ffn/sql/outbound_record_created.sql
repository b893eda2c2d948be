UPDATE core.fulfillment_outbounds SET outbound_id = :i, status = :s, updated_at = now()
WHERE account_id = :a AND merchant_outbound_number = :n
