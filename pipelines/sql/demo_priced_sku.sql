-- The demo's product to reprice: the first (by SKU) whose price the first push delivered to Letzshop.
SELECT l.sku
FROM core.channel_prices c
JOIN core.price_ledger l USING (ledger_id)
JOIN ops.accounts a ON a.account_id = c.account_id AND a.channel = 'letzshop'
JOIN ops.stores s ON s.store_id = a.store_id AND s.code = :c
ORDER BY l.sku
LIMIT 1
