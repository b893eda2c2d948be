-- Foundation: the four warehouse schemas, accounts and credentials, canonical orders, matching
-- exceptions, the outbound queue and the sync log. Applied by `marketsync db upgrade` (Alembic).

CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS ops;
CREATE SCHEMA IF NOT EXISTS analytics;

-- ---------------------------------------------------------------- ops: who we sync for
CREATE TABLE ops.stores (
    store_id      bigserial PRIMARY KEY,
    code          text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name          text,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ops.accounts (
    account_id            bigserial PRIMARY KEY,
    store_id              bigint NOT NULL REFERENCES ops.stores,
    channel               text NOT NULL CHECK (channel IN ('letzshop', 'amazon', 'ebay', 'codeswholesale', 'jtl_ffn', 'google_sheets', 'feed')),
    endpoint              text,
    sync_interval_minutes integer NOT NULL DEFAULT 15 CHECK (sync_interval_minutes BETWEEN 5 AND 1440),
    settings              jsonb NOT NULL DEFAULT '{}'::jsonb,
    enabled               boolean NOT NULL DEFAULT true,
    last_synced_at        timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (store_id, channel)
);

-- Secrets are Fernet tokens; the keys live only in MARKETSYNC_SECRET_KEYS. key_id names the key that
-- encrypted the row (a truncated hash, not the key) so an interrupted rotation can resume.
CREATE TABLE ops.credentials (
    account_id    bigint PRIMARY KEY REFERENCES ops.accounts ON DELETE CASCADE,
    token         bytea NOT NULL,
    key_id        text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------- raw: payloads as received
-- One row per distinct version of a shipment: re-fetching an unchanged shipment adds nothing.
CREATE TABLE raw.letzshop_shipments (
    raw_id        bigserial PRIMARY KEY,
    account_id    bigint NOT NULL REFERENCES ops.accounts,
    shipment_id   text NOT NULL,
    payload       jsonb NOT NULL,
    payload_sha   text NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    run_id        text,
    UNIQUE (account_id, shipment_id, payload_sha)
);
CREATE INDEX letzshop_shipments_latest ON raw.letzshop_shipments (account_id, shipment_id, raw_id DESC);

-- ---------------------------------------------------------------- core: the canonical catalog and orders
CREATE TABLE core.products (
    product_id     bigserial PRIMARY KEY,
    store_id       bigint NOT NULL REFERENCES ops.stores,
    sku            text NOT NULL,
    gtin14         char(14) CHECK (gtin14 ~ '^[0-9]{14}$'),
    title          text,
    is_placeholder boolean NOT NULL DEFAULT false,
    attributes     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (store_id, sku)
);
CREATE INDEX products_gtin14 ON core.products (store_id, gtin14) WHERE NOT is_placeholder;

-- One row per channel order, or per shipment where the channel splits an order (Letzshop does).
CREATE TABLE core.orders (
    order_id             bigserial PRIMARY KEY,
    store_id             bigint NOT NULL REFERENCES ops.stores,
    account_id           bigint NOT NULL REFERENCES ops.accounts,
    channel              text NOT NULL,
    channel_order_id     text NOT NULL,
    channel_shipment_id  text NOT NULL,
    order_number         text NOT NULL,
    shipment_number      text,
    customer_email       text,
    customer_name        text,
    customer_locale      text,
    total                numeric(14, 2),
    currency             char(3) NOT NULL DEFAULT 'EUR',
    channel_state        text NOT NULL,
    sync_status          text NOT NULL DEFAULT 'imported'
        CHECK (sync_status IN ('imported', 'confirming', 'confirmed', 'rejecting', 'rejected', 'shipped')),
    ordered_at           timestamptz,
    tracking_number      text,
    tracking_carrier     text,
    tracking_url         text,
    shipped_at           timestamptz,
    rejection_reason     text,
    source_payload_sha   text NOT NULL,
    imported_at          timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, channel_shipment_id)
);
CREATE INDEX orders_order_number ON core.orders (order_number);
CREATE INDEX orders_store_state ON core.orders (store_id, sync_status);

CREATE TABLE core.order_addresses (
    order_id       bigint NOT NULL REFERENCES core.orders ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('shipping', 'billing')),
    first_name     text,
    last_name      text,
    company        text,
    street_name    text,
    street_number  text,
    zip_code       text,
    city           text,
    country_iso    char(2),
    country_name   text,
    phone          text,
    PRIMARY KEY (order_id, kind)
);

-- One row per inventory unit: one piece. Count rows for quantities; group by channel_variant_id for lines.
CREATE TABLE core.order_items (
    order_item_id       bigserial PRIMARY KEY,
    order_id            bigint NOT NULL REFERENCES core.orders ON DELETE CASCADE,
    channel_item_id     text NOT NULL,
    channel_variant_id  text,
    sku                 text,
    mpn                 text,
    barcode             text,
    barcode_type        text,
    gtin14              char(14),
    title               text,
    brand               text,
    unit_price          numeric(14, 2),
    quantity            integer NOT NULL DEFAULT 1 CHECK (quantity > 0),
    channel_state       text NOT NULL,
    product_id          bigint REFERENCES core.products,
    match_status        text NOT NULL DEFAULT 'pending'
        CHECK (match_status IN ('pending', 'matched', 'unmatched')),
    matched_by          text CHECK (matched_by IN ('gtin', 'sku', 'manual')),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, channel_item_id)
);
CREATE INDEX order_items_product ON core.order_items (product_id);
CREATE INDEX order_items_pending ON core.order_items (order_id) WHERE match_status = 'pending';

-- ---------------------------------------------------------------- ops: exceptions, queue, logs
CREATE TABLE ops.order_exceptions (
    exception_id     bigserial PRIMARY KEY,
    store_id         bigint NOT NULL REFERENCES ops.stores,
    order_id         bigint NOT NULL REFERENCES core.orders ON DELETE CASCADE,
    order_item_id    bigint NOT NULL REFERENCES core.order_items ON DELETE CASCADE,
    kind             text NOT NULL CHECK (kind IN ('product_not_found', 'gtin_mismatch', 'duplicate_gtin')),
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'resolved', 'ignored')),
    gtin14           char(14),
    barcode          text,
    sku              text,
    details          jsonb NOT NULL DEFAULT '{}'::jsonb,
    resolved_product_id bigint REFERENCES core.products,
    resolution       text,
    resolved_by      text,
    resolved_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_item_id, kind)
);
CREATE INDEX order_exceptions_open ON ops.order_exceptions (store_id, status, gtin14);
CREATE INDEX order_exceptions_order ON ops.order_exceptions (order_id);

CREATE TABLE ops.outbound_queue (
    outbound_id      bigserial PRIMARY KEY,
    account_id       bigint NOT NULL REFERENCES ops.accounts,
    order_id         bigint REFERENCES core.orders,
    operation        text NOT NULL,
    payload          jsonb NOT NULL,
    -- Made when the work is queued, before any attempt: the same request queued twice is one row.
    idempotency_key  text NOT NULL UNIQUE,
    status           text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'in_flight', 'succeeded', 'dead')),
    -- Set when an attempt may have reached the channel without us seeing the answer.
    outcome_unknown  boolean NOT NULL DEFAULT false,
    attempts         integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL DEFAULT 8,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_expires_at timestamptz,
    last_error       text,
    response         jsonb,
    triggered_by     text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    completed_at     timestamptz
);
CREATE INDEX outbound_queue_ready ON ops.outbound_queue (next_attempt_at) WHERE status IN ('pending', 'in_flight');
CREATE INDEX outbound_queue_order ON ops.outbound_queue (order_id, outbound_id);

CREATE TABLE ops.sync_log (
    sync_id            bigserial PRIMARY KEY,
    account_id         bigint REFERENCES ops.accounts,
    operation          text NOT NULL,
    direction          text NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),
    records_processed  integer NOT NULL DEFAULT 0,
    records_succeeded  integer NOT NULL DEFAULT 0,
    records_failed     integer NOT NULL DEFAULT 0,
    errors             jsonb NOT NULL DEFAULT '[]'::jsonb,
    started_at         timestamptz NOT NULL DEFAULT now(),
    completed_at       timestamptz,
    duration_ms        integer GENERATED ALWAYS AS
        ((extract(epoch FROM (completed_at - started_at)) * 1000)::integer) STORED,
    triggered_by       text NOT NULL DEFAULT 'cli',
    run_id             text
);
CREATE INDEX sync_log_account_started ON ops.sync_log (account_id, started_at DESC);

-- Records a loader could not use, with the reason; the rest of their batch loads.
CREATE TABLE ops.quarantine (
    quarantine_id  bigserial PRIMARY KEY,
    source         text NOT NULL,
    account_id     bigint REFERENCES ops.accounts,
    record_ref     text,
    line_number    integer,
    raw_text       text NOT NULL,
    reason         text NOT NULL,
    run_id         text,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quarantine_source ON ops.quarantine (source, created_at DESC);

CREATE TABLE ops.alerts (
    alert_id     bigserial PRIMARY KEY,
    source       text NOT NULL,
    run_id       text,
    job_name     text,
    message      text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
