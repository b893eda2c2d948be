-- Per account of the given channels: how many orders wait for their follow-up and the newest of them
-- (the batch a follow-up run is requested for), the account waiting longest first. Served by the partial index orders_awaiting_followup.
SELECT a.account_id, a.channel, s.code AS store, a.enabled, count(*) AS waiting, max(o.order_id) AS newest
FROM core.orders o
JOIN ops.accounts a ON a.account_id = o.account_id
JOIN ops.stores s ON s.store_id = a.store_id
WHERE o.followed_up_at IS NULL AND a.channel = ANY(:channels)
GROUP BY a.account_id, a.channel, s.code, a.enabled
ORDER BY min(o.imported_at), a.channel, s.code  -- longest waiting first
