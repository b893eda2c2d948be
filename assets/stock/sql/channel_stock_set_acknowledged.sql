UPDATE core.channel_stock SET acknowledged_quantity = :q, acknowledged_at = now(), ledger_id = NULL
WHERE account_id = :a AND product_id = :p
