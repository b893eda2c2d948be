SELECT store_id, code, name
FROM ops.stores
WHERE CAST(:store_id AS bigint) IS NULL OR store_id = :store_id
ORDER BY code
