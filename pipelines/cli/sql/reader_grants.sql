-- `marketsync analyst list`: every reader grant of this database. Store grants (ops.store_roles), read as
-- analyst or support by the role's group; then the roles granted every store (members of analyst or
-- support themselves, store '*'). role_exists is false for a role dropped since it was granted a store.
SELECT g.role_name AS role,
       CASE WHEN pg_catalog.pg_has_role(r.oid, 'store_support', 'USAGE') THEN 'support' ELSE 'analyst' END AS access,
       s.code AS store, g.granted_at, g.granted_by, r.oid IS NOT NULL AS role_exists
FROM ops.store_roles g
JOIN ops.stores s USING (store_id)
LEFT JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name
UNION ALL
SELECT member.rolname, grp.rolname, '*', NULL, NULL, true
FROM pg_catalog.pg_auth_members m
JOIN pg_catalog.pg_roles grp ON grp.oid = m.roleid AND grp.rolname IN ('analyst', 'support')
JOIN pg_catalog.pg_roles member ON member.oid = m.member
ORDER BY 1, 3
