UPDATE core.fulfillment_shipments SET tracking_queued_at = now()
WHERE account_id = :a AND notification_id = :n
