-- Outbound writes the queue still holds (pending, in flight, dead-lettered) per store, channel and status.
SELECT s.code AS store, a.channel, q.status, count(*) AS items
FROM ops.outbound_queue q
JOIN ops.accounts a ON a.account_id = q.account_id
JOIN ops.stores s ON s.store_id = a.store_id
WHERE q.status <> 'succeeded'
  AND (CAST(:store_id AS bigint) IS NULL OR a.store_id = :store_id)
GROUP BY s.code, a.channel, q.status
ORDER BY s.code, a.channel, q.status
