UPDATE core.orders
SET rejection_reason = :r, updated_at = now(),
    sync_status = CASE WHEN sync_status = 'imported' THEN 'rejecting' ELSE sync_status END
WHERE order_id = :o
