UPDATE core.fulfillment_outbounds SET status = :s, updated_at = now()
WHERE account_id = :a AND merchant_outbound_number = :n AND status IS DISTINCT FROM :s
