SELECT o.order_id FROM core.orders o JOIN ops.stores s USING (store_id)
WHERE s.code = :c AND o.sync_status = 'imported'
ORDER BY o.order_id
