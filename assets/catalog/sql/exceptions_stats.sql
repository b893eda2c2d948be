SELECT e.kind, e.status, count(*) AS n
FROM ops.order_exceptions e
WHERE CAST(:store_id AS bigint) IS NULL OR e.store_id = :store_id
GROUP BY e.kind, e.status
