-- Digital goods: which products are keys, where each key comes from, the purchase intents that make a
-- supplier purchase happen at most once, and the keys themselves (encrypted, one order item each).

-- A store's digital product: where its keys come from and the guards on buying them.
CREATE TABLE ops.digital_products (
    product_id           bigint PRIMARY KEY REFERENCES core.products ON DELETE CASCADE,
    store_id             bigint NOT NULL REFERENCES ops.stores,
    -- The supplier's product (CodesWholesale productId); NULL for a product sold from the pool only.
    supplier_product_id  text,
    sources              text NOT NULL DEFAULT 'pool_then_supplier'
        CHECK (sources IN ('pool_then_supplier', 'supplier_only', 'pool_only')),
    -- Never buy a unit above this cost (the listing's currency); NULL: no ceiling of its own.
    max_unit_cost        numeric(14, 4) CHECK (max_unit_cost > 0),
    -- Never buy when the supplier's price rose more than this many percent above the price list's.
    price_margin_percent numeric(6, 2) NOT NULL DEFAULT 5 CHECK (price_margin_percent >= 0),
    -- Alert when fewer unassigned pool keys than this remain.
    low_pool_threshold   integer NOT NULL DEFAULT 5 CHECK (low_pool_threshold >= 0),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (sources = 'pool_only' OR supplier_product_id IS NOT NULL)
);
CREATE INDEX digital_products_store ON ops.digital_products (store_id);

-- One purchase per order item unit, committed as an intent before the first request to the supplier:
-- its client order id is what the supplier keeps, so an answer that never came is resolved by looking
-- the order up, never by buying again.
CREATE TABLE ops.digital_purchases (
    purchase_id          bigserial PRIMARY KEY,
    store_id             bigint NOT NULL REFERENCES ops.stores,
    order_item_id        bigint NOT NULL REFERENCES core.order_items ON DELETE RESTRICT,
    unit                 integer NOT NULL DEFAULT 1 CHECK (unit >= 1),
    client_order_id      text NOT NULL UNIQUE CHECK (length(client_order_id) BETWEEN 8 AND 64),
    supplier_product_id  text NOT NULL,
    listed_unit_price    numeric(14, 4) NOT NULL CHECK (listed_unit_price > 0),
    -- intent: committed, not sent; sent: a request is out (a worker may have died with it);
    -- outcome_unknown: the answer was lost, look the order up; fulfilling: bought, codes to come;
    -- bought: codes stored; waiting: a guard holds it (reason); refused: the supplier said no (reason).
    status               text NOT NULL DEFAULT 'intent'
        CHECK (status IN ('intent', 'sent', 'outcome_unknown', 'fulfilling', 'bought', 'waiting', 'refused')),
    supplier_order_id    text UNIQUE,
    charged_unit_price   numeric(14, 4),
    reason               text,
    sent_at              timestamptz,
    attempts             integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_check_at        timestamptz NOT NULL DEFAULT now(),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_item_id, unit),
    CHECK ((status IN ('fulfilling', 'bought')) <= (supplier_order_id IS NOT NULL)),
    CHECK ((status IN ('waiting', 'refused')) = (reason IS NOT NULL))
);
CREATE INDEX digital_purchases_due ON ops.digital_purchases (store_id, next_check_at)
    WHERE status IN ('intent', 'sent', 'outcome_unknown', 'fulfilling', 'waiting');

-- Keys: the merchant's pre-loaded pool and those bought, encrypted with the vault's keys (rotation covers
-- them); `fingerprint` is a keyed hash that refuses a duplicate without storing the key in clear. Each key
-- goes to at most one order item unit, and each unit gets at most one key.
CREATE TABLE ops.digital_keys (
    digital_key_id  bigserial PRIMARY KEY,
    store_id        bigint NOT NULL REFERENCES ops.stores,
    product_id      bigint NOT NULL REFERENCES core.products,
    source          text NOT NULL CHECK (source IN ('pool', 'supplier')),
    kind            text NOT NULL CHECK (kind IN ('text', 'image', 'pre_order')),
    token           bytea NOT NULL,
    key_id          text NOT NULL,
    fingerprint     text NOT NULL,
    purchase_id     bigint REFERENCES ops.digital_purchases,
    order_item_id   bigint REFERENCES core.order_items ON DELETE RESTRICT,
    unit            integer CHECK (unit >= 1),
    assigned_at     timestamptz,
    delivered_at    timestamptz,
    delivered_via   text,
    imported_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (store_id, fingerprint),
    UNIQUE (order_item_id, unit),
    UNIQUE (purchase_id),
    CHECK ((order_item_id IS NULL) = (assigned_at IS NULL) AND (order_item_id IS NULL) = (unit IS NULL)),
    CHECK ((source = 'supplier') = (purchase_id IS NOT NULL)),
    CHECK (delivered_at IS NULL OR order_item_id IS NOT NULL)
);
CREATE INDEX digital_keys_pool ON ops.digital_keys (store_id, product_id, digital_key_id) WHERE order_item_id IS NULL;
CREATE INDEX digital_keys_rotation ON ops.digital_keys (key_id);
