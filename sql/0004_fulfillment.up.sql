-- Fulfillment through JTL-FFN and the operations team's inbound control sheet: what the warehouse
-- holds and received (per FFN account), the orders handed to it and its shipping notifications, and
-- the sheet settings, rows and checks per store.

-- ---------------------------------------------------------------- raw: FFN payloads as received
-- One row per distinct version of an FFN object: re-fetching an unchanged one adds nothing.
CREATE TABLE raw.jtl_ffn_payloads (
    raw_id        bigserial PRIMARY KEY,
    account_id    bigint NOT NULL REFERENCES ops.accounts,
    kind          text NOT NULL CHECK (kind IN ('product', 'stock', 'inbound', 'outbound', 'shipping_notification')),
    external_id   text NOT NULL,
    payload       jsonb NOT NULL,
    payload_sha   text NOT NULL,
    fetched_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, kind, external_id, payload_sha)
);

-- ---------------------------------------------------------------- core: what the warehouse holds
-- The merchant's SKU -> the fulfiller's jfsku.
CREATE TABLE core.fulfillment_products (
    account_id    bigint NOT NULL REFERENCES ops.accounts,
    jfsku         text NOT NULL,
    merchant_sku  text NOT NULL,
    name          text,
    gtin          text,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, jfsku)
);
CREATE INDEX fulfillment_products_sku ON core.fulfillment_products (account_id, merchant_sku);

CREATE TABLE core.fulfillment_stock (
    account_id      bigint NOT NULL REFERENCES ops.accounts,
    jfsku           text NOT NULL,
    warehouse_id    text NOT NULL,
    stock_level     numeric(14, 2) NOT NULL DEFAULT 0,
    reserved        numeric(14, 2) NOT NULL DEFAULT 0,
    blocked         numeric(14, 2) NOT NULL DEFAULT 0,
    announced       numeric(14, 2) NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, jfsku, warehouse_id)
);

CREATE TABLE core.fulfillment_inbounds (
    account_id               bigint NOT NULL REFERENCES ops.accounts,
    inbound_id               text NOT NULL,
    merchant_inbound_number  text,
    warehouse_id             text,
    status                   text,
    created_at_fulfiller     timestamptz,
    updated_at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, inbound_id)
);
CREATE INDEX fulfillment_inbounds_number ON core.fulfillment_inbounds (account_id, merchant_inbound_number);

CREATE TABLE core.fulfillment_inbound_items (
    account_id     bigint NOT NULL,
    inbound_id     text NOT NULL,
    jfsku          text NOT NULL,
    merchant_sku   text,
    quantity       numeric(14, 2) NOT NULL DEFAULT 0,
    received       numeric(14, 2) NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, inbound_id, jfsku),
    FOREIGN KEY (account_id, inbound_id) REFERENCES core.fulfillment_inbounds ON DELETE CASCADE
);

-- Orders handed to the warehouse, one per marketplace order (merchantOutboundNumber is ours).
CREATE TABLE core.fulfillment_outbounds (
    account_id                bigint NOT NULL REFERENCES ops.accounts,
    merchant_outbound_number  text NOT NULL,
    outbound_id               text,
    order_id                  bigint REFERENCES core.orders,
    status                    text,
    updated_at                timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, merchant_outbound_number)
);
CREATE INDEX fulfillment_outbounds_order ON core.fulfillment_outbounds (order_id);

-- What the warehouse shipped: one row per shipping notification (a partial shipment is one of several).
CREATE TABLE core.fulfillment_shipments (
    account_id        bigint NOT NULL REFERENCES ops.accounts,
    notification_id   text NOT NULL,
    merchant_outbound_number text NOT NULL,
    carrier           text,
    tracking_number   text,
    tracking_url      text,
    shipped_at        timestamptz,
    items             jsonb NOT NULL DEFAULT '[]'::jsonb,
    tracking_queued_at timestamptz,
    PRIMARY KEY (account_id, notification_id)
);

-- ---------------------------------------------------------------- the inbound control sheet
CREATE TABLE ops.inbound_sheets (
    store_id           bigint PRIMARY KEY REFERENCES ops.stores,
    spreadsheet_id     text NOT NULL,
    worksheet          text NOT NULL,
    header_row         integer NOT NULL DEFAULT 1 CHECK (header_row >= 1),
    sku_column         text NOT NULL,
    expected_column    text NOT NULL,
    status_column      text NOT NULL,
    reference_column   text,
    compare_with       text NOT NULL DEFAULT 'receipts' CHECK (compare_with IN ('receipts', 'stock')),
    check_cron         text NOT NULL DEFAULT '0 8 * * *',
    check_timezone     text NOT NULL DEFAULT 'Europe/Berlin',
    enabled            boolean NOT NULL DEFAULT true,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- The sheet's rows as last read: analysts query them, the checker compares them.
CREATE TABLE raw.inbound_sheet_rows (
    store_id      bigint NOT NULL REFERENCES ops.stores,
    row_number    integer NOT NULL,
    cells         jsonb NOT NULL,
    read_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, row_number)
);

-- One row per sheet row per check: what the checker concluded.
CREATE TABLE ops.inbound_checks (
    check_id      bigserial PRIMARY KEY,
    store_id      bigint NOT NULL REFERENCES ops.stores,
    run_id        text,
    checked_at    timestamptz NOT NULL DEFAULT now(),
    rows_checked  integer NOT NULL DEFAULT 0,
    matched       integer NOT NULL DEFAULT 0,
    mismatched    integer NOT NULL DEFAULT 0,
    problems      integer NOT NULL DEFAULT 0,
    cells_written integer NOT NULL DEFAULT 0,
    error         text
);
CREATE INDEX inbound_checks_store ON ops.inbound_checks (store_id, checked_at DESC);
