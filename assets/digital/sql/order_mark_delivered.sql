-- A fully digital order reached its buyer: it is fulfilled (the status trigger reads digital_delivered_at)
-- and, for the local workflow and stock, shipped.
UPDATE core.orders
SET digital_delivered_at = now(), sync_status = 'shipped', shipped_at = coalesce(shipped_at, now()),
    updated_at = now()
WHERE order_id = :o AND digital_delivered_at IS NULL
