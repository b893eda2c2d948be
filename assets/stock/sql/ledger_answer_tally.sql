SELECT answer, count(*) FROM core.stock_ledger
WHERE inventory_sync_id = :s
GROUP BY answer
