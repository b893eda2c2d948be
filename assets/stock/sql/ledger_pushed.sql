SELECT sku, pushed_quantity FROM core.stock_ledger
WHERE inventory_sync_id = :s
ORDER BY sku
