-- Whether role :r is granted role :g itself (not through another role).
SELECT EXISTS (SELECT FROM pg_catalog.pg_auth_members m
               WHERE m.member = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = :r)
                 AND m.roleid = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = :g))
