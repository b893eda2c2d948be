SELECT a.account_id
FROM ops.accounts a JOIN ops.stores s USING (store_id)
WHERE s.code = :s AND a.channel = :c
