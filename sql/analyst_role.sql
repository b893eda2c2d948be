-- The read-only analyst role: SELECT on core and analytics, nothing on raw or ops (credentials, queues),
-- and no way to create or change anything. Roles are cluster-wide, grants are per database: safe to re-run.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'analyst') THEN
        CREATE ROLE analyst NOLOGIN;
    END IF;
END
$$;

REVOKE ALL ON SCHEMA raw, ops FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON SCHEMA raw, ops FROM analyst;
REVOKE ALL ON ALL TABLES IN SCHEMA raw, ops FROM analyst;
GRANT USAGE ON SCHEMA core, analytics TO analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA core, analytics TO analyst;
ALTER DEFAULT PRIVILEGES IN SCHEMA core, analytics GRANT SELECT ON TABLES TO analyst;
