SELECT a.account_id, s.code, a.channel
FROM ops.accounts a JOIN ops.stores s USING (store_id)
WHERE a.account_id = :a
