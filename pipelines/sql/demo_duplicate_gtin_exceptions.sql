SELECT count(*) FROM ops.order_exceptions e JOIN ops.stores s USING (store_id)
WHERE s.code = :c AND e.kind = 'duplicate_gtin'
