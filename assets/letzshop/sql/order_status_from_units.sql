-- Letzshop derives a shipment's state from its units; we do the same for the local status.
UPDATE core.orders o SET
    channel_state = CASE WHEN u.available > 0 THEN 'confirmed' WHEN u.open = 0 THEN 'declined' ELSE o.channel_state END,
    sync_status = CASE WHEN o.sync_status = 'shipped' THEN 'shipped'
                       WHEN u.available > 0 THEN 'confirmed'
                       WHEN u.open = 0 THEN 'rejected' ELSE o.sync_status END,
    updated_at = now()
FROM (SELECT count(*) FILTER (WHERE channel_state = 'confirmed_available') AS available,
             count(*) FILTER (WHERE channel_state = 'unconfirmed') AS open
      FROM core.order_items WHERE order_id = :o) u
WHERE o.order_id = :o
