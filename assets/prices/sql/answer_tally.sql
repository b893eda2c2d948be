SELECT answer, count(*) FROM core.price_ledger
WHERE price_sync_id = :s
GROUP BY answer
