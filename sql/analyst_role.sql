-- The read-only roles, and what each reads. Roles are cluster-wide, grants are per database: safe to re-run.
--   analyst        every store's rows in core and analytics, without buyers' personal data
--   store_analyst  the same, for the stores granted to a role (`marketsync analyst grant --store S ROLE`)
--   support        every store's rows in core, analytics and support, personal data included
--   store_support  the same, for the stores granted to a role (`... grant --role support --store S ROLE`)
-- None reads raw or ops (credentials, queues, payloads as received), and none can create or change
-- anything. A store role reads only the rows of its stores (core.visible_stores, row-level security;
-- migration 0015), recorded in this database (ops.store_roles).
DO $$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['analyst', 'store_analyst', 'support', 'store_support'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role_name) THEN
            EXECUTE 'CREATE ROLE ' || quote_ident(role_name) || ' NOLOGIN';
        END IF;
    END LOOP;
END
$$;

REVOKE ALL ON SCHEMA raw, ops, support FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON SCHEMA raw, ops FROM analyst, store_analyst, support, store_support;
REVOKE ALL ON ALL TABLES IN SCHEMA raw, ops FROM analyst, store_analyst, support, store_support;
REVOKE ALL ON SCHEMA support FROM analyst, store_analyst;
REVOKE ALL ON ALL TABLES IN SCHEMA support FROM analyst, store_analyst;
GRANT USAGE ON SCHEMA core, analytics TO analyst, store_analyst, support, store_support;
GRANT USAGE ON SCHEMA support TO support, store_support;
GRANT SELECT ON ALL TABLES IN SCHEMA core, analytics, support TO support, store_support;
ALTER DEFAULT PRIVILEGES IN SCHEMA core, analytics, support GRANT SELECT ON TABLES TO support, store_support;
ALTER DEFAULT PRIVILEGES IN SCHEMA core, analytics GRANT SELECT ON TABLES TO analyst, store_analyst;

-- Buyers' personal data: who a buyer is and where they live. The analyst roles read every other column of
-- these tables (column privileges; buyers appear to them as core.orders.buyer_key and addresses as
-- country and postcode_area) and every other table whole. Each column's comment says "Personal data"
-- (tests/test_warehouse_roles.py holds the two together).
DO $$
DECLARE
    personal CONSTANT jsonb := '{
        "core.orders": ["customer_email", "customer_name", "tracking_number", "tracking_url"],
        "core.order_addresses": ["first_name", "last_name", "company", "street_name", "street_number",
                                 "zip_code", "city", "phone"],
        "core.fulfillment_shipments": ["tracking_number", "tracking_url"]}';
    relation regclass;
    readable text;
BEGIN
    FOR relation IN SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname IN ('core', 'analytics') AND c.relkind IN ('r', 'v', 'm', 'p', 'f') LOOP
        IF personal ? relation::text THEN
            SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO readable
            FROM pg_attribute a
            WHERE a.attrelid = relation AND a.attnum > 0 AND NOT a.attisdropped
              AND NOT (personal -> relation::text) ? a.attname;
            EXECUTE 'REVOKE SELECT ON ' || relation || ' FROM analyst, store_analyst';
            EXECUTE 'GRANT SELECT (' || readable || ') ON ' || relation || ' TO analyst, store_analyst';
        ELSE
            EXECUTE 'GRANT SELECT ON ' || relation || ' TO analyst, store_analyst';
        END IF;
    END LOOP;
END
$$;
