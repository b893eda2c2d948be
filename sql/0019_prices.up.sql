-- Prices out: what each listing should cost on each channel, pushed as deltas like stock.
-- The rule per store channel (ops.price_rules), one push per run (ops.price_syncs), a ledger row per
-- listing per push holding every term of its number (core.price_ledger), and the price each channel
-- last acknowledged per listing (core.channel_prices), which makes the next push a delta.

-- The rule of one store channel: base (the store's price, else the catalog's) * (1 + markup/100)
-- + fixed_add, rounded, then clamped to the ceiling and LAST to the floor, so the floor always wins.
-- Floor and ceiling are in `currency`; a listing priced in another currency is not pushed.
CREATE TABLE ops.price_rules (
    account_id      bigint PRIMARY KEY REFERENCES ops.accounts ON DELETE CASCADE,
    enabled         boolean NOT NULL DEFAULT true,
    markup_percent  numeric(7, 3) NOT NULL DEFAULT 0 CHECK (markup_percent > -100 AND markup_percent <= 1000),
    fixed_add       numeric(14, 2) NOT NULL DEFAULT 0,
    rounding        text NOT NULL DEFAULT 'none' CHECK (rounding IN ('none', '.99', '.95')),
    floor_price     numeric(14, 2) NOT NULL DEFAULT 0.01 CHECK (floor_price >= 0),
    ceiling_price   numeric(14, 2) CHECK (ceiling_price IS NULL OR ceiling_price >= floor_price),
    currency        char(3) NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
    -- Where a file-based adapter delivers (location, filename, ...); never secrets.
    delivery        jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ops.price_syncs (
    price_sync_id  bigserial PRIMARY KEY,
    account_id     bigint NOT NULL REFERENCES ops.accounts,
    mode           text NOT NULL CHECK (mode IN ('incremental', 'full')),
    status         text NOT NULL DEFAULT 'running'
        CHECK (status IN ('running', 'succeeded', 'partially_succeeded', 'failed')),
    listings       integer NOT NULL DEFAULT 0,
    processed      integer NOT NULL DEFAULT 0,
    succeeded      integer NOT NULL DEFAULT 0,
    failed         integer NOT NULL DEFAULT 0,
    unanswered     integer NOT NULL DEFAULT 0,
    errors         jsonb NOT NULL DEFAULT '[]'::jsonb,
    delivered_to   text,
    triggered_by   text NOT NULL DEFAULT 'cli',
    run_id         text,
    started_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at    timestamptz
);
CREATE INDEX price_syncs_account ON ops.price_syncs (account_id, price_sync_id DESC);

-- One row per listing per push: the base and where it came from, the rule's terms as they were, each
-- step's result, the final price, what the channel had acknowledged before, and the channel's answer.
-- The CHECKs repeat the promise the code keeps: the final price is never below the floor, never above
-- the ceiling unless the floor is (the floor wins).
CREATE TABLE core.price_ledger (
    ledger_id              bigserial PRIMARY KEY,
    price_sync_id          bigint NOT NULL,
    account_id             bigint NOT NULL REFERENCES ops.accounts,
    product_id             bigint NOT NULL,
    sku                    text NOT NULL,
    currency               char(3) NOT NULL,
    base_price             numeric(14, 4) NOT NULL,
    base_source            text NOT NULL CHECK (base_source IN ('store', 'catalog')),
    markup_percent         numeric(7, 3) NOT NULL,
    fixed_add              numeric(14, 2) NOT NULL,
    marked_up              numeric(14, 4) NOT NULL,
    rounding               text NOT NULL,
    rounded                numeric(14, 2) NOT NULL,
    ceiling_price          numeric(14, 2),
    floor_price            numeric(14, 2) NOT NULL,
    clamped_by             text CHECK (clamped_by IN ('ceiling', 'floor')),
    final_price            numeric(14, 2) NOT NULL CHECK (final_price >= floor_price),
    previous_acknowledged  numeric(14, 2),
    answer                 text NOT NULL DEFAULT 'pending'
        CHECK (answer IN ('pending', 'accepted', 'delivered', 'rejected', 'no_answer', 'failed')),
    answer_message         text,
    answered_at            timestamptz,
    computed_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT price_ledger_ceiling CHECK (ceiling_price IS NULL OR final_price <= ceiling_price
                                           OR final_price = floor_price)
);
CREATE INDEX price_ledger_product ON core.price_ledger (product_id, ledger_id DESC);
CREATE INDEX price_ledger_sync ON core.price_ledger (price_sync_id);
CREATE INDEX price_ledger_pending ON core.price_ledger (account_id) WHERE answer = 'pending';

-- What each channel shows: the last price it acknowledged per listing. A delta push sends exactly the
-- listings whose computed price differs from this. The inputs that price was computed from (its base,
-- where the base came from, the rule's terms) are kept beside it: a listing whose inputs are all the
-- same has the same price, so a push computes only the listings whose inputs changed.
CREATE TABLE core.channel_prices (
    account_id          bigint NOT NULL REFERENCES ops.accounts ON DELETE CASCADE,
    product_id          bigint NOT NULL REFERENCES core.products ON DELETE CASCADE,
    acknowledged_price  numeric(14, 2) NOT NULL,
    currency            char(3) NOT NULL,
    base_price          numeric(14, 4),
    base_source         text,
    rule_terms          text,
    acknowledged_at     timestamptz NOT NULL,
    ledger_id           bigint,
    PRIMARY KEY (account_id, product_id)
);

-- Row-level security like core.stock_ledger and core.channel_stock: through the account.
ALTER TABLE core.price_ledger ENABLE ROW LEVEL SECURITY;
CREATE POLICY store_rows ON core.price_ledger FOR SELECT
    USING ((SELECT core.sees_every_store(current_user))
           OR account_id IN (SELECT a.account_id FROM core.visible_accounts a));

ALTER TABLE core.channel_prices ENABLE ROW LEVEL SECURITY;
CREATE POLICY store_rows ON core.channel_prices FOR SELECT
    USING ((SELECT core.sees_every_store(current_user))
           OR account_id IN (SELECT a.account_id FROM core.visible_accounts a));
