-- `marketsync analyst list`: every store grant of this database; role_exists is false for a role dropped
-- since it was granted.
SELECT g.role_name AS role, s.code AS store, g.granted_at, g.granted_by,
       EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname = g.role_name) AS role_exists
FROM ops.store_roles g
JOIN ops.stores s USING (store_id)
ORDER BY g.role_name, s.code
