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

CREATE OR REPLACE VIEW analytics.channel_prices WITH (security_barrier) AS
SELECT s.code AS store, a.channel, p.sku, c.product_id, c.acknowledged_price, c.currency, c.acknowledged_at
FROM core.channel_prices c
JOIN ops.accounts a ON a.account_id = c.account_id
JOIN core.visible_stores s ON s.store_id = a.store_id
JOIN core.products p ON p.product_id = c.product_id;
