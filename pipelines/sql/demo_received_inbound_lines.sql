SELECT b.merchant_inbound_number, i.merchant_sku, i.received
FROM core.fulfillment_inbound_items i JOIN core.fulfillment_inbounds b USING (account_id, inbound_id)
WHERE i.account_id = :a AND i.merchant_sku IS NOT NULL AND i.received > 0
ORDER BY b.inbound_id, i.jfsku
LIMIT 6
