SELECT i.*, s.code AS store
FROM ops.inbound_sheets i JOIN ops.stores s USING (store_id)
WHERE s.code = :s
