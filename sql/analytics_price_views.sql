-- Prices out for analysts: every pushed price with every term of it, and what each channel acknowledged.
-- Security barriers joined to core.visible_stores, like every analytics view: a store role reads its own.

CREATE OR REPLACE VIEW analytics.price_ledger WITH (security_barrier) AS
SELECT l.ledger_id, l.price_sync_id, s.code AS store, a.channel, l.sku, l.product_id, y.mode, l.currency,
       l.base_price, l.base_source, l.markup_percent, l.fixed_add, l.marked_up, l.rounding, l.rounded,
       l.ceiling_price, l.floor_price, l.clamped_by, l.final_price, l.previous_acknowledged, l.answer,
       l.answer_message, l.computed_at, l.answered_at
FROM core.price_ledger l
JOIN ops.accounts a ON a.account_id = l.account_id
JOIN core.visible_stores s ON s.store_id = a.store_id
LEFT JOIN ops.price_syncs y ON y.price_sync_id = l.price_sync_id;

COMMENT ON VIEW analytics.price_ledger IS
    'One row per listing per price push: the base and where it came from, the rule''s terms, each step, the final price sent, what the channel had acknowledged before and its answer. Amounts in `currency`.';
COMMENT ON COLUMN analytics.price_ledger.ledger_id IS 'Warehouse key of the row (core.price_ledger).';
COMMENT ON COLUMN analytics.price_ledger.price_sync_id IS 'The price push.';
COMMENT ON COLUMN analytics.price_ledger.store IS 'The store''s code (core.visible_stores.code).';
COMMENT ON COLUMN analytics.price_ledger.channel IS 'The channel of the account: letzshop, amazon, ebay, storefront, ...';
COMMENT ON COLUMN analytics.price_ledger.sku IS 'The store''s SKU at the time of the push.';
COMMENT ON COLUMN analytics.price_ledger.product_id IS 'The store product (core.products).';
COMMENT ON COLUMN analytics.price_ledger.mode IS 'The push''s mode: incremental or full.';
COMMENT ON COLUMN analytics.price_ledger.currency IS 'ISO 4217 code of every amount of the row.';
COMMENT ON COLUMN analytics.price_ledger.base_price IS 'The price the rule starts from, in `currency`.';
COMMENT ON COLUMN analytics.price_ledger.base_source IS 'store (the store''s own price) or catalog (the catalog source''s).';
COMMENT ON COLUMN analytics.price_ledger.markup_percent IS 'The rule''s markup, in percent of the base.';
COMMENT ON COLUMN analytics.price_ledger.fixed_add IS 'The rule''s fixed amount added after the markup, in `currency`.';
COMMENT ON COLUMN analytics.price_ledger.marked_up IS 'base_price x (1 + markup_percent / 100) + fixed_add, in `currency`.';
COMMENT ON COLUMN analytics.price_ledger.rounding IS 'none (to the cent), .99 or .95 (up to the next price ending so).';
COMMENT ON COLUMN analytics.price_ledger.rounded IS 'marked_up after rounding, in `currency`.';
COMMENT ON COLUMN analytics.price_ledger.ceiling_price IS 'The rule''s ceiling, in `currency`; null when none.';
COMMENT ON COLUMN analytics.price_ledger.floor_price IS 'The rule''s floor, in `currency`.';
COMMENT ON COLUMN analytics.price_ledger.clamped_by IS 'ceiling or floor when the price was clamped to it; null when not.';
COMMENT ON COLUMN analytics.price_ledger.final_price IS 'The price sent to the channel, in `currency`.';
COMMENT ON COLUMN analytics.price_ledger.previous_acknowledged IS 'The price the channel had acknowledged before, in `currency`; null when none.';
COMMENT ON COLUMN analytics.price_ledger.answer IS 'pending, accepted, delivered (a file reached the channel), rejected, no_answer or failed.';
COMMENT ON COLUMN analytics.price_ledger.answer_message IS 'The channel''s reason for a rejection, or what went wrong.';
COMMENT ON COLUMN analytics.price_ledger.computed_at IS 'When the price was computed.';
COMMENT ON COLUMN analytics.price_ledger.answered_at IS 'When the answer was recorded; null while pending.';

CREATE OR REPLACE VIEW analytics.channel_prices WITH (security_barrier) AS
SELECT s.code AS store, a.channel, p.sku, c.product_id, c.acknowledged_price, c.currency, c.acknowledged_at
FROM core.channel_prices c
JOIN ops.accounts a ON a.account_id = c.account_id
JOIN core.visible_stores s ON s.store_id = a.store_id
JOIN core.products p ON p.product_id = c.product_id;

COMMENT ON VIEW analytics.channel_prices IS
    'One row per listing and price channel: the price the channel last acknowledged.';
COMMENT ON COLUMN analytics.channel_prices.store IS 'The store''s code (core.visible_stores.code).';
COMMENT ON COLUMN analytics.channel_prices.channel IS 'The channel of the account: letzshop, amazon, ebay, storefront, ...';
COMMENT ON COLUMN analytics.channel_prices.sku IS 'The store''s SKU.';
COMMENT ON COLUMN analytics.channel_prices.product_id IS 'The store product (core.products).';
COMMENT ON COLUMN analytics.channel_prices.acknowledged_price IS 'The price the channel last acknowledged, in `currency`.';
COMMENT ON COLUMN analytics.channel_prices.currency IS 'ISO 4217 code of the price.';
COMMENT ON COLUMN analytics.channel_prices.acknowledged_at IS 'When that answer was recorded.';
