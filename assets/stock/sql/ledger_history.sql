SELECT l.*, y.mode, y.triggered_by
FROM core.stock_ledger l
LEFT JOIN ops.inventory_syncs y USING (inventory_sync_id)
WHERE l.account_id = :a AND l.product_id = :p
ORDER BY l.ledger_id DESC
LIMIT :n
