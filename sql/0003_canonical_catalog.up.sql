-- The canonical catalog: every product a store can sell, from every source (marketplace feeds,
-- CodesWholesale, supplier feeds pulled or pushed), in one multi-language model. A store's own listing
-- (core.products) links to a marketplace product and may override any field: an override wins, a null
-- inherits. Import runs, feed configuration and the push inbox live in ops.

ALTER TABLE ops.stores ADD COLUMN language_fallback text[] NOT NULL DEFAULT '{de,fr,en}';

-- Where products come from: one row per catalog source of a store (a marketplace feed, a supplier
-- API, a pulled or pushed supplier feed). The mapping is versioned: each change adds a row to
-- ops.feed_mapping_versions and bumps mapping_version.
CREATE TABLE ops.catalog_sources (
    source_id        bigserial PRIMARY KEY,
    store_id         bigint NOT NULL REFERENCES ops.stores,
    name             text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    kind             text NOT NULL CHECK (kind IN ('letzshop_feed', 'codeswholesale', 'pull_feed', 'push_feed')),
    format           text CHECK (format IN ('csv', 'tsv', 'xml', 'json')),
    location         text,             -- URL (http, https, ftp, ftps); credentials never stored here
    encoding         text NOT NULL DEFAULT 'utf-8',
    mapping          jsonb NOT NULL DEFAULT '{}'::jsonb,
    mapping_version  integer NOT NULL DEFAULT 1,
    settings         jsonb NOT NULL DEFAULT '{}'::jsonb,
    enabled          boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (store_id, name)
);

CREATE TABLE ops.feed_mapping_versions (
    source_id   bigint NOT NULL REFERENCES ops.catalog_sources ON DELETE CASCADE,
    version     integer NOT NULL,
    mapping     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text,
    PRIMARY KEY (source_id, version)
);

-- Secrets of a catalog source (feed URL credentials, API client secrets, push HMAC secrets), as Fernet
-- tokens like ops.credentials.
CREATE TABLE ops.source_credentials (
    source_id   bigint PRIMARY KEY REFERENCES ops.catalog_sources ON DELETE CASCADE,
    token       bytea NOT NULL,
    key_id      text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE core.marketplace_products (
    marketplace_product_id bigserial PRIMARY KEY,
    source_id        bigint NOT NULL REFERENCES ops.catalog_sources,
    external_id      text NOT NULL,
    gtin14           char(14) CHECK (gtin14 ~ '^[0-9]{14}$'),
    sku              text,
    mpn              text,
    brand            text,
    price            numeric(14, 4),
    currency         char(3),
    availability     text,
    quantity         integer,
    product_type     text NOT NULL DEFAULT 'physical' CHECK (product_type IN ('physical', 'digital')),
    platform         text,
    regions          text[],
    languages        text[],
    attributes       jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- When the source says the record changed; a stale update never overwrites a newer one.
    source_updated_at timestamptz,
    -- Hash of everything above as loaded: a refresh writes only rows whose hash changed.
    content_sha      text NOT NULL,
    first_seen_at    timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_id, external_id)
);
CREATE INDEX marketplace_products_gtin ON core.marketplace_products (gtin14);
CREATE INDEX marketplace_products_sku ON core.marketplace_products (source_id, sku);

CREATE TABLE core.marketplace_product_translations (
    marketplace_product_id bigint NOT NULL REFERENCES core.marketplace_products ON DELETE CASCADE,
    language     text NOT NULL CHECK (language ~ '^[a-z]{2}$'),
    title        text,
    description  text,
    PRIMARY KEY (marketplace_product_id, language)
);

-- core.products becomes the store's listing: its own columns are overrides, null inherits.
ALTER TABLE core.products
    ADD COLUMN marketplace_product_id bigint REFERENCES core.marketplace_products,
    ADD COLUMN mpn text,
    ADD COLUMN brand text,
    ADD COLUMN price numeric(14, 4),
    ADD COLUMN currency char(3),
    ADD COLUMN availability text,
    ADD COLUMN quantity integer,
    ADD COLUMN product_type text CHECK (product_type IN ('physical', 'digital'));
CREATE INDEX products_marketplace_product ON core.products (marketplace_product_id);

CREATE TABLE core.product_translations (
    product_id   bigint NOT NULL REFERENCES core.products ON DELETE CASCADE,
    language     text NOT NULL CHECK (language ~ '^[a-z]{2}$'),
    title        text,
    description  text,
    PRIMARY KEY (product_id, language)
);

-- One row per catalog import: pending -> downloading -> parsing -> upserting -> completed |
-- partially_completed | failed. Finished runs account for every row they read.
CREATE TABLE ops.import_runs (
    import_run_id   bigserial PRIMARY KEY,
    source_id       bigint NOT NULL REFERENCES ops.catalog_sources,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN
        ('pending', 'downloading', 'parsing', 'upserting', 'completed', 'partially_completed', 'failed')),
    mapping_version integer,
    rows_read       bigint NOT NULL DEFAULT 0,
    rows_loaded     bigint NOT NULL DEFAULT 0,
    rows_unchanged  bigint NOT NULL DEFAULT 0,
    rows_quarantined bigint NOT NULL DEFAULT 0,
    bytes_read      bigint NOT NULL DEFAULT 0,
    error           text,
    dagster_run_id  text,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    CHECK (status NOT IN ('completed', 'partially_completed')
           OR rows_read = rows_loaded + rows_unchanged + rows_quarantined)
);
CREATE INDEX import_runs_source ON ops.import_runs (source_id, started_at DESC);

ALTER TABLE ops.quarantine ADD COLUMN import_run_id bigint REFERENCES ops.import_runs ON DELETE CASCADE;
CREATE INDEX quarantine_import_run ON ops.quarantine (import_run_id);

-- Pushed feed items: batches land here at once and a sensor applies them.
CREATE TABLE ops.feed_inbox (
    inbox_id     bigserial PRIMARY KEY,
    source_id    bigint NOT NULL REFERENCES ops.catalog_sources,
    event_id     text NOT NULL,
    items        jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'applied', 'failed')),
    applied_at   timestamptz,
    error        text,
    UNIQUE (source_id, event_id)
);
CREATE INDEX feed_inbox_pending ON ops.feed_inbox (inbox_id) WHERE status = 'pending';

-- SKUs updated per feed and day, for the daily update limit.
CREATE TABLE ops.feed_daily_usage (
    source_id    bigint NOT NULL REFERENCES ops.catalog_sources ON DELETE CASCADE,
    day          date NOT NULL,
    sku_updates  integer NOT NULL DEFAULT 0,
    PRIMARY KEY (source_id, day)
);

-- The store products a GTIN-14 names: by the product's own GTIN, or, where the product leaves its GTIN
-- null, by the GTIN it inherits from the marketplace product it lists. Placeholders never count.
-- Matching and exception auto-resolution both ask this one question; each branch is an index probe.
CREATE FUNCTION core.products_with_gtin(p_store_id bigint, p_gtin14 char(14))
RETURNS SETOF bigint LANGUAGE sql STABLE AS $$
    SELECT p.product_id FROM core.products p
    WHERE p.store_id = p_store_id AND p.gtin14 = p_gtin14 AND NOT p.is_placeholder
    UNION ALL
    SELECT p.product_id FROM core.marketplace_products m
    JOIN core.products p ON p.marketplace_product_id = m.marketplace_product_id
    WHERE m.gtin14 = p_gtin14 AND p.store_id = p_store_id AND p.gtin14 IS NULL AND NOT p.is_placeholder
$$;
