SELECT l.*, y.mode, y.triggered_by
FROM core.price_ledger l
LEFT JOIN ops.price_syncs y USING (price_sync_id)
WHERE l.account_id = :a AND l.product_id = :p
ORDER BY l.ledger_id DESC
LIMIT :n
