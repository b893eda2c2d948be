-- The read-only analyst role: SELECT on core and analytics, nothing on raw or ops (credentials, queues),
-- and no way to create or change anything. Roles are cluster-wide, grants are per database: safe to re-run.
-- The store_analyst role has the same privileges, but reads only the rows of the stores granted to a
-- role (core.visible_stores, row-level security; migration 0015): `marketsync analyst grant --store S
-- ROLE` makes ROLE a member of it and records the grant in this database (ops.store_roles). The analyst
-- role reads every store.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'analyst') THEN
        CREATE ROLE analyst NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'store_analyst') THEN
        CREATE ROLE store_analyst NOLOGIN;
    END IF;
END
$$;

REVOKE ALL ON SCHEMA raw, ops FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON SCHEMA raw, ops FROM analyst, store_analyst;
REVOKE ALL ON ALL TABLES IN SCHEMA raw, ops FROM analyst, store_analyst;
GRANT USAGE ON SCHEMA core, analytics TO analyst, store_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA core, analytics TO analyst, store_analyst;
ALTER DEFAULT PRIVILEGES IN SCHEMA core, analytics GRANT SELECT ON TABLES TO analyst, store_analyst;
