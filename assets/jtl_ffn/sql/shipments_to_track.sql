-- Shipments whose tracking has not been handed to the marketplace yet, oldest first, with their order.
SELECT s.notification_id, s.carrier, s.tracking_number, s.tracking_url, f.order_id
FROM core.fulfillment_shipments s
JOIN core.fulfillment_outbounds f ON f.account_id = s.account_id AND f.merchant_outbound_number = s.merchant_outbound_number
WHERE s.account_id = :account_id AND s.tracking_queued_at IS NULL
ORDER BY s.shipped_at NULLS LAST, s.notification_id
