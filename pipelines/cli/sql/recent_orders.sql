-- `marketsync orders list`: the newest orders, of one store and one sync status when given.
SELECT order_id, store, channel, order_number, shipment_number, units, total, currency,
       channel_state, sync_status, open_exceptions, ordered_at
FROM analytics.orders
WHERE (CAST(:store AS text) IS NULL OR store = :store)
  AND (CAST(:status AS text) IS NULL OR sync_status = :status)
ORDER BY ordered_at DESC NULLS LAST, order_id DESC LIMIT :limit
