UPDATE core.orders SET sync_status = 'confirming', updated_at = now()
WHERE order_id = :o AND sync_status = 'imported'
