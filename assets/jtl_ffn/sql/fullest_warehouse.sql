-- The warehouse holding the most stock of the account: where outbounds go when none is set.
SELECT warehouse_id FROM core.fulfillment_stock
WHERE account_id = :a AND warehouse_id <> ''
GROUP BY 1
ORDER BY sum(stock_level) DESC
LIMIT 1
