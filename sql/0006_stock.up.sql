-- Stock out: what each listing may sell on each channel, why, and what the channel acknowledged.
-- Availability itself is computed, never stored as a running total (assets/stock/sql/availability.sql):
-- on-hand from the stock sources (FFN warehouses, supplier and pushed feeds, manual adjustments) minus
-- units of open orders, minus units shipped but not yet counted by a source, minus safety stock. This
-- migration adds what the formula reads (settings, adjustments, listing rules, when a source last
-- counted), what a push writes (the inventory sync log, the ledger, the channel's acknowledged state)
-- and the change feed the real-time sensor watches.

-- ---------------------------------------------------------------- when a stock source last counted
-- A unit shipped after a source's last count is still in that count: it is deducted until the source
-- counts again. FFN: the start of the last stock snapshot (set by the FFN stock sync).
ALTER TABLE ops.accounts ADD COLUMN stock_counted_at timestamptz;

-- ---------------------------------------------------------------- the listing rule
-- What a listing shows for an availability: a per-listing override replaces it, a maximum caps it, and
-- at or below the out-of-stock threshold the channel gets 0 (sync_zero_stock) or the threshold. Never
-- negative. The push computes it here, the ledger's CHECK re-proves it, stock explain prints it.
CREATE FUNCTION core.listed_quantity(available integer, quantity_override integer, max_quantity integer,
                                     threshold integer, sync_zero_stock boolean)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN least(coalesce(quantity_override, available), max_quantity) <= threshold
                THEN CASE WHEN sync_zero_stock THEN 0 ELSE threshold END
                ELSE least(coalesce(quantity_override, available), max_quantity) END
$$;

-- One listing's availability on one channel, term by term (core.stock_availability returns these).
CREATE TYPE core.stock_terms AS (
    product_id bigint, sku text, ffn_on_hand integer, ffn_foreign_reserved integer, feed_quantity integer,
    manual_quantity integer, reserved integer, shipped_uncounted integer, safety_stock integer,
    available integer, quantity_override integer, max_quantity integer, out_of_stock_threshold integer,
    sync_zero_stock boolean, on_demand boolean, pushed_quantity integer, acknowledged_quantity integer,
    counted_at timestamptz);

-- ---------------------------------------------------------------- settings per store and channel
CREATE TABLE ops.stock_settings (
    account_id              bigint PRIMARY KEY REFERENCES ops.accounts ON DELETE CASCADE,
    enabled                 boolean NOT NULL DEFAULT true,
    strategy                text NOT NULL DEFAULT 'batch' CHECK (strategy IN ('realtime', 'batch', 'manual')),
    batch_interval_minutes  integer NOT NULL DEFAULT 60 CHECK (batch_interval_minutes BETWEEN 1 AND 10080),
    safety_stock            integer NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
    out_of_stock_threshold  integer NOT NULL DEFAULT 0 CHECK (out_of_stock_threshold >= 0),
    -- At or below the threshold: push 0 (true) or the threshold itself (false).
    sync_zero_stock         boolean NOT NULL DEFAULT true,
    -- Which products are listings on the channel: the whole catalog (Letzshop lists the store's catalog)
    -- or only those the channel knows (sold or acknowledged there, or listed by a rule): Amazon, eBay.
    listings                text NOT NULL DEFAULT 'catalog' CHECK (listings IN ('catalog', 'known')),
    -- The asset check fails when the last successful sync is older than this.
    max_lag_minutes         integer NOT NULL DEFAULT 120 CHECK (max_lag_minutes > 0),
    adapter                 text NOT NULL,
    -- Where and how the adapter delivers (location, file name, delimiter); never secrets: those live
    -- encrypted with the account's credentials.
    delivery                jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at              timestamptz NOT NULL DEFAULT now()
);

-- Manual stock: a count sets the product's manual stock (and is a count of it: shipments before it are
-- in it); a delta adds to the last count.
CREATE TABLE core.stock_adjustments (
    adjustment_id  bigserial PRIMARY KEY,
    store_id       bigint NOT NULL REFERENCES ops.stores,
    product_id     bigint NOT NULL REFERENCES core.products ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('count', 'delta')),
    quantity       integer NOT NULL CHECK (kind = 'delta' OR quantity >= 0),
    reason         text,
    created_by     text,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX stock_adjustments_product ON core.stock_adjustments (product_id, adjustment_id);
CREATE INDEX stock_adjustments_store ON core.stock_adjustments (store_id);

-- Per listing and channel: a fixed quantity instead of the computed one, a maximum, and whether the
-- product is a listing there at all (null: as the channel's `listings` setting says).
CREATE TABLE core.stock_listing_rules (
    account_id         bigint NOT NULL REFERENCES ops.accounts ON DELETE CASCADE,
    product_id         bigint NOT NULL REFERENCES core.products ON DELETE CASCADE,
    quantity_override  integer CHECK (quantity_override >= 0),
    max_quantity       integer CHECK (max_quantity >= 0),
    listed             boolean,
    note               text,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, product_id),
    CHECK (quantity_override IS NOT NULL OR max_quantity IS NOT NULL OR listed IS NOT NULL)
);

-- ---------------------------------------------------------------- pushes
-- The inventory sync log: one row per push (full, incremental or single). `snapshot` is the database
-- snapshot the quantities were computed in: exactly which order and stock changes a push saw.
CREATE TABLE ops.inventory_syncs (
    inventory_sync_id  bigserial PRIMARY KEY,
    account_id         bigint NOT NULL REFERENCES ops.accounts,
    mode               text NOT NULL CHECK (mode IN ('full', 'incremental', 'single')),
    status             text NOT NULL DEFAULT 'running'
        CHECK (status IN ('running', 'succeeded', 'partially_succeeded', 'failed')),
    snapshot           pg_snapshot,
    listings           integer NOT NULL DEFAULT 0,
    processed          integer NOT NULL DEFAULT 0,
    succeeded          integer NOT NULL DEFAULT 0,
    failed             integer NOT NULL DEFAULT 0,
    unanswered         integer NOT NULL DEFAULT 0,
    errors             jsonb NOT NULL DEFAULT '[]'::jsonb,
    delivered_to       text,
    triggered_by       text NOT NULL DEFAULT 'cli',
    run_id             text,
    started_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at        timestamptz
);
CREATE INDEX inventory_syncs_account ON ops.inventory_syncs (account_id, inventory_sync_id DESC);

-- The ledger: one row per listing per push, with every term of the formula, the number pushed, what the
-- channel had acknowledged before, and the channel's answer.
CREATE TABLE core.stock_ledger (
    ledger_id               bigserial PRIMARY KEY,
    inventory_sync_id       bigint NOT NULL,
    account_id              bigint NOT NULL REFERENCES ops.accounts,
    product_id              bigint NOT NULL,
    sku                     text NOT NULL,
    ffn_on_hand             integer NOT NULL,
    ffn_foreign_reserved    integer NOT NULL,
    feed_quantity           integer NOT NULL,
    manual_quantity         integer NOT NULL,
    reserved                integer NOT NULL,
    shipped_uncounted       integer NOT NULL,
    safety_stock            integer NOT NULL,
    available               integer NOT NULL,
    quantity_override       integer,
    max_quantity            integer,
    out_of_stock_threshold  integer NOT NULL,
    sync_zero_stock         boolean NOT NULL,
    on_demand               boolean NOT NULL,
    pushed_quantity         integer NOT NULL CHECK (pushed_quantity >= 0),
    previous_acknowledged   integer,
    answer                  text NOT NULL DEFAULT 'pending'
        CHECK (answer IN ('pending', 'accepted', 'delivered', 'rejected', 'no_answer', 'failed')),
    answer_message          text,
    answered_at             timestamptz,
    computed_at             timestamptz NOT NULL DEFAULT now(),
    -- The formula, checked by the database on every row: the terms add up to the number pushed.
    CONSTRAINT stock_ledger_terms_add_up CHECK (
        available = ffn_on_hand - ffn_foreign_reserved + feed_quantity + manual_quantity
                    - reserved - shipped_uncounted - safety_stock
        AND pushed_quantity = core.listed_quantity(available, quantity_override, max_quantity,
                                                   out_of_stock_threshold, sync_zero_stock))
);
CREATE INDEX stock_ledger_product ON core.stock_ledger (product_id, ledger_id DESC);
CREATE INDEX stock_ledger_sync ON core.stock_ledger (inventory_sync_id);
-- Rows a push left waiting for the channel's answer (normally none): found without reading the ledger.
CREATE INDEX stock_ledger_pending ON core.stock_ledger (account_id) WHERE answer = 'pending';

-- What each channel lists: the last quantity it acknowledged per listing. A delta push sends exactly
-- the listings whose computed quantity differs from this.
CREATE TABLE core.channel_stock (
    account_id              bigint NOT NULL REFERENCES ops.accounts ON DELETE CASCADE,
    product_id              bigint NOT NULL REFERENCES core.products ON DELETE CASCADE,
    acknowledged_quantity   integer NOT NULL,
    acknowledged_at         timestamptz NOT NULL,
    ledger_id               bigint,
    PRIMARY KEY (account_id, product_id)
);

-- ---------------------------------------------------------------- the change feed
-- Every statement that may change a store's availability adds a row here, with its transaction id.
-- A push records its snapshot; a change not visible in that snapshot is one the push did not see.
-- Rows are appended (no shared counter row), so concurrent order imports never wait on each other.
CREATE TABLE ops.stock_changes (
    change_id   bigserial PRIMARY KEY,
    store_id    bigint NOT NULL,
    source      text NOT NULL,
    xid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_changes_store_xid ON ops.stock_changes (store_id, xid);

CREATE INDEX orders_shipped ON core.orders (store_id, shipped_at) WHERE sync_status = 'shipped';

-- Every trigger hands its changed rows over as the transition table `changed_rows`. With no argument
-- the rows carry store_id; otherwise TG_ARGV = (key column, table holding that key and store_id).
-- Statement-level: a 1M-row feed load adds one row per store, not a million.
CREATE FUNCTION ops.note_stock_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_NARGS = 0 THEN
        INSERT INTO ops.stock_changes (store_id, source) SELECT DISTINCT store_id, TG_TABLE_NAME FROM changed_rows;
    ELSE
        EXECUTE 'INSERT INTO ops.stock_changes (store_id, source) SELECT DISTINCT t.store_id, $1 '
             || 'FROM (SELECT DISTINCT ' || quote_ident(TG_ARGV[0]) || ' FROM changed_rows) c '
             || 'JOIN ' || TG_ARGV[1] || ' t USING (' || quote_ident(TG_ARGV[0]) || ')'
        USING TG_TABLE_NAME;
    END IF;
    RETURN NULL;
END $$;

DO $$
DECLARE
    -- table, and how its rows name their store (see ops.note_stock_change)
    watched CONSTANT text[][] := ARRAY[
        ['core.orders', ''], ['core.order_items', '''order_id'', ''core.orders'''],
        ['core.products', ''], ['core.stock_adjustments', ''],
        ['core.marketplace_products', '''source_id'', ''ops.catalog_sources'''],
        ['core.fulfillment_products', '''account_id'', ''ops.accounts'''],
        ['core.fulfillment_stock', '''account_id'', ''ops.accounts'''],
        ['core.stock_listing_rules', '''account_id'', ''ops.accounts'''],
        ['ops.stock_settings', '''account_id'', ''ops.accounts''']];
    event text;
    i int;
BEGIN
    FOR i IN 1 .. array_length(watched, 1) LOOP
        FOREACH event IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
            -- No format(): the migration runner's driver would read its placeholders as parameters.
            EXECUTE 'CREATE TRIGGER stock_change_' || event || ' AFTER ' || event || ' ON ' || watched[i][1]
                 || ' REFERENCING ' || CASE event WHEN 'delete' THEN 'OLD' ELSE 'NEW' END
                 || ' TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION ops.note_stock_change('
                 || watched[i][2] || ')';
        END LOOP;
    END LOOP;
END $$;

-- A stock source counting again changes what is deducted for shipments (shipped_uncounted) even when no
-- quantity changed: an FFN stock snapshot, a completed feed import, an applied push batch.
CREATE FUNCTION ops.note_stock_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'accounts' THEN
        INSERT INTO ops.stock_changes (store_id, source) VALUES (NEW.store_id, 'stock_count');
    ELSE
        INSERT INTO ops.stock_changes (store_id, source)
        SELECT store_id, 'stock_count' FROM ops.catalog_sources WHERE source_id = NEW.source_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER stock_counted AFTER UPDATE OF stock_counted_at ON ops.accounts FOR EACH ROW
    WHEN (NEW.stock_counted_at IS DISTINCT FROM OLD.stock_counted_at) EXECUTE FUNCTION ops.note_stock_count();
CREATE TRIGGER stock_counted AFTER UPDATE OF status ON ops.import_runs FOR EACH ROW
    WHEN (NEW.status IN ('completed', 'partially_completed') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION ops.note_stock_count();
CREATE TRIGGER stock_counted AFTER UPDATE OF status ON ops.feed_inbox FOR EACH ROW
    WHEN (NEW.status = 'applied' AND OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION ops.note_stock_count();
