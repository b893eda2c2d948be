UPDATE core.orders SET sync_status = 'shipped', shipped_at = coalesce(shipped_at, now()), updated_at = now()
WHERE order_id = :o
