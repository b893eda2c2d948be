SELECT count(DISTINCT o.order_id) AS shipments, count(i.*) AS units,
       count(*) FILTER (WHERE i.matched_by = 'gtin') AS matched_by_gtin,
       count(*) FILTER (WHERE i.matched_by IS DISTINCT FROM 'gtin') AS not_by_gtin
FROM core.orders o JOIN ops.stores s USING (store_id) JOIN core.order_items i USING (order_id)
WHERE s.code = :c AND o.channel = 'letzshop'
