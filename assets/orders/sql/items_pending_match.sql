SELECT count(*) FROM core.order_items i JOIN core.orders o USING (order_id)
WHERE o.account_id = :a AND i.match_status = 'pending'
