-- What the account's shop sent in the last day: orders by their status in the shop.
SELECT o.channel_state AS status, count(*) AS orders
FROM core.orders o
WHERE o.account_id = :a AND o.imported_at > now() - interval '1 day'
GROUP BY o.channel_state
ORDER BY o.channel_state
