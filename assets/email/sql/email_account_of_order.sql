-- The order's store and that store's e-mail account (NULL when it has none).
SELECT o.order_id, o.store_id, s.code AS store, o.customer_locale, a.account_id
FROM core.orders o
JOIN ops.stores s ON s.store_id = o.store_id
LEFT JOIN ops.accounts a ON a.store_id = o.store_id AND a.channel = 'email'
WHERE o.order_id = :o
