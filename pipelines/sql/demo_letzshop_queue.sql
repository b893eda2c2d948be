SELECT q.status, count(*)
FROM ops.outbound_queue q JOIN ops.accounts a USING (account_id) JOIN ops.stores s USING (store_id)
WHERE s.code = :c AND a.channel = 'letzshop'
GROUP BY q.status
