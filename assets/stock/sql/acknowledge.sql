INSERT INTO core.channel_stock AS c (account_id, product_id, acknowledged_quantity, acknowledged_at, ledger_id)
SELECT l.account_id, l.product_id, l.pushed_quantity, l.answered_at, l.ledger_id
FROM core.stock_ledger l
WHERE l.inventory_sync_id = :sync_id AND l.answer IN ('accepted', 'delivered')
ON CONFLICT (account_id, product_id) DO UPDATE SET
    acknowledged_quantity = excluded.acknowledged_quantity,
    acknowledged_at = excluded.acknowledged_at,
    ledger_id = excluded.ledger_id
