-- Ledger rows of the demo store whose pushed price is under their rule's floor (the database refuses them too).
SELECT count(*)
FROM core.price_ledger l
JOIN ops.accounts a USING (account_id)
JOIN ops.stores s ON s.store_id = a.store_id
WHERE s.code = :c AND l.final_price < l.floor_price
