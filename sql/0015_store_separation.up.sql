-- Per-store separation: a store analyst role (`marketsync analyst grant --store S ROLE`) reads only the
-- rows of the stores granted to it, in core (row-level security) and in analytics (every view filters by
-- core.visible_stores). The analyst role (the merchant's own data team) and the owner of the tables (the
-- application, which connects as the owner and so is not subject to row-level security) read every store.
-- Roles belong to the whole server and every database of it has its own grants, so a store grant is a row
-- of this database (ops.store_roles), never a property of the role.

-- Which role reads which store. In ops, which no analyst reads: only the views and functions below read it,
-- each for the user that asks. A role dropped outside marketsync keeps its rows until revoked; they match
-- nothing (a role of the same name made later would read the store again: revoke before dropping).
CREATE TABLE ops.store_roles (
    role_name  text NOT NULL CHECK (role_name <> '' AND length(role_name) <= 63),
    store_id   bigint NOT NULL REFERENCES ops.stores ON DELETE CASCADE,
    granted_at timestamptz NOT NULL DEFAULT now(),
    granted_by text NOT NULL DEFAULT session_user,
    PRIMARY KEY (role_name, store_id)
);

-- True when role p_role reads every store: it has the privileges of the analyst role or of the owner of the
-- tables (superusers have every role's). Reads the catalog only.
CREATE FUNCTION core.sees_every_store(p_role name) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT EXISTS (SELECT FROM pg_catalog.pg_roles r
                   WHERE r.rolname = 'analyst' AND pg_catalog.pg_has_role(p_role, r.oid, 'USAGE'))
        OR pg_catalog.pg_has_role(p_role, (SELECT c.relowner FROM pg_catalog.pg_class c
                                           WHERE c.oid = 'core.orders'::regclass), 'USAGE')
$$;

-- The stores role p_role reads: every store (sees_every_store), else those granted to a role whose
-- privileges it has (itself, or a role it inherits). Runs as its owner to read ops; it answers only for a
-- role the session's user may act as, so no one learns another role's stores through it.
CREATE FUNCTION core.readable_store_ids(p_role name) RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.store_id FROM ops.stores s
    WHERE pg_has_role(session_user, p_role, 'MEMBER')
      AND (core.sees_every_store(p_role)
           OR s.store_id IN (SELECT g.store_id FROM ops.store_roles g
                             JOIN pg_roles r ON r.rolname = g.role_name
                             WHERE pg_has_role(p_role, r.oid, 'USAGE')))
$$;

-- The stores the current user reads, and their accounts and catalog sources: what the policies below and
-- the analytics views filter by. They run with their owner's rights on ops (security barriers: a function
-- of the caller's in a query on them never sees a row they filter out); current_user is the caller. The
-- first test is evaluated once per query and spares the analyst role the function call.
CREATE VIEW core.visible_stores WITH (security_barrier) AS
SELECT s.store_id, s.code, s.name, s.language_fallback
FROM ops.stores s
WHERE (SELECT core.sees_every_store(current_user))
   OR s.store_id IN (SELECT core.readable_store_ids(current_user));

CREATE VIEW core.visible_accounts WITH (security_barrier) AS
SELECT a.account_id, a.store_id, a.channel
FROM ops.accounts a
WHERE a.store_id IN (SELECT v.store_id FROM core.visible_stores v);

CREATE VIEW core.visible_catalog_sources WITH (security_barrier) AS
SELECT c.source_id, c.store_id, c.name, c.kind
FROM ops.catalog_sources c
WHERE c.store_id IN (SELECT v.store_id FROM core.visible_stores v);

COMMENT ON VIEW core.visible_stores IS
    'The stores the current user reads: every store for the analyst role, the granted ones for a store role (marketsync analyst grant).';

-- Row-level security on every core table that belongs to a store, directly (store_id), through its
-- account, catalog source, order or product. Reading only (FOR SELECT): analysts write nothing, and the
-- application owns the tables (not FORCEd: the owner is not subject to it). Each policy first asks once per
-- query whether the user reads every store (an InitPlan), so the analyst role pays no per-row lookup; a
-- store role's rows are found by one uncorrelated, hashed subquery. core.order_status_map is reference
-- data of no store: every analyst reads all of it.
ALTER TABLE core.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY store_rows ON core.orders FOR SELECT
    USING ((SELECT core.sees_every_store(current_user))
           OR store_id IN (SELECT v.store_id FROM core.visible_stores v));

ALTER TABLE core.products ENABLE ROW LEVEL SECURITY;
CREATE POLICY store_rows ON core.products FOR SELECT
    USING ((SELECT core.sees_every_store(current_user))
           OR store_id IN (SELECT v.store_id FROM core.visible_stores v));

ALTER TABLE core.stock_adjustments ENABLE ROW LEVEL SECURITY;
CREATE POLICY store_rows ON core.stock_adjustments FOR SELECT
    USING ((SELECT core.sees_every_store(current_user))
           OR store_id IN (SELECT v.store_id FROM core.visible_stores v));

-- Through the order (core.orders' own policy applies inside: the orders this user reads).
ALTER TABLE core.order_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY store_rows ON core.order_items FOR SELECT
    USING ((SELECT core.sees_every_store(current_user)) OR order_id IN (SELECT o.order_id FROM core.orders o));

ALTER TABLE core.order_addresses ENABLE ROW LEVEL SECURITY;
CREATE POLICY store_rows ON core.order_addresses FOR SELECT
    USING ((SELECT core.sees_every_store(current_user)) OR order_id IN (SELECT o.order_id FROM core.orders o));

-- Through the product.
ALTER TABLE core.product_translations ENABLE ROW LEVEL SECURITY;
CREATE POLICY store_rows ON core.product_translations FOR SELECT
    USING ((SELECT core.sees_every_store(current_user))
           OR product_id IN (SELECT p.product_id FROM core.products p));

-- Through the catalog source, and the marketplace product.
ALTER TABLE core.marketplace_products ENABLE ROW LEVEL SECURITY;
CREATE POLICY store_rows ON core.marketplace_products FOR SELECT
    USING ((SELECT core.sees_every_store(current_user))
           OR source_id IN (SELECT c.source_id FROM core.visible_catalog_sources c));

ALTER TABLE core.marketplace_product_translations ENABLE ROW LEVEL SECURITY;
CREATE POLICY store_rows ON core.marketplace_product_translations FOR SELECT
    USING ((SELECT core.sees_every_store(current_user))
           OR marketplace_product_id IN (SELECT m.marketplace_product_id FROM core.marketplace_products m));

-- Through the account: stock out and fulfilment.
ALTER TABLE core.stock_ledger ENABLE ROW LEVEL SECURITY;
CREATE POLICY store_rows ON core.stock_ledger FOR SELECT
    USING ((SELECT core.sees_every_store(current_user))
           OR account_id IN (SELECT a.account_id FROM core.visible_accounts a));

ALTER TABLE core.channel_stock ENABLE ROW LEVEL SECURITY;
CREATE POLICY store_rows ON core.channel_stock FOR SELECT
    USING ((SELECT core.sees_every_store(current_user))
           OR account_id IN (SELECT a.account_id FROM core.visible_accounts a));

ALTER TABLE core.stock_listing_rules ENABLE ROW LEVEL SECURITY;
CREATE POLICY store_rows ON core.stock_listing_rules FOR SELECT
    USING ((SELECT core.sees_every_store(current_user))
           OR account_id IN (SELECT a.account_id FROM core.visible_accounts a));

ALTER TABLE core.fulfillment_products ENABLE ROW LEVEL SECURITY;
CREATE POLICY store_rows ON core.fulfillment_products FOR SELECT
    USING ((SELECT core.sees_every_store(current_user))
           OR account_id IN (SELECT a.account_id FROM core.visible_accounts a));

ALTER TABLE core.fulfillment_stock ENABLE ROW LEVEL SECURITY;
CREATE POLICY store_rows ON core.fulfillment_stock FOR SELECT
    USING ((SELECT core.sees_every_store(current_user))
           OR account_id IN (SELECT a.account_id FROM core.visible_accounts a));

ALTER TABLE core.fulfillment_inbounds ENABLE ROW LEVEL SECURITY;
CREATE POLICY store_rows ON core.fulfillment_inbounds FOR SELECT
    USING ((SELECT core.sees_every_store(current_user))
           OR account_id IN (SELECT a.account_id FROM core.visible_accounts a));

ALTER TABLE core.fulfillment_inbound_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY store_rows ON core.fulfillment_inbound_items FOR SELECT
    USING ((SELECT core.sees_every_store(current_user))
           OR account_id IN (SELECT a.account_id FROM core.visible_accounts a));

ALTER TABLE core.fulfillment_outbounds ENABLE ROW LEVEL SECURITY;
CREATE POLICY store_rows ON core.fulfillment_outbounds FOR SELECT
    USING ((SELECT core.sees_every_store(current_user))
           OR account_id IN (SELECT a.account_id FROM core.visible_accounts a));

ALTER TABLE core.fulfillment_shipments ENABLE ROW LEVEL SECURITY;
CREATE POLICY store_rows ON core.fulfillment_shipments FOR SELECT
    USING ((SELECT core.sees_every_store(current_user))
           OR account_id IN (SELECT a.account_id FROM core.visible_accounts a));
