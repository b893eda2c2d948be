-- Accepted and delivered prices become what the channel acknowledged: the next push is a delta from them.
INSERT INTO core.channel_prices AS c (account_id, product_id, acknowledged_price, currency, acknowledged_at, ledger_id)
SELECT l.account_id, l.product_id, l.final_price, l.currency, l.answered_at, l.ledger_id
FROM core.price_ledger l
WHERE l.price_sync_id = :s AND l.answer IN ('accepted', 'delivered')
ON CONFLICT (account_id, product_id) DO UPDATE SET
    acknowledged_price = excluded.acknowledged_price, currency = excluded.currency,
    acknowledged_at = excluded.acknowledged_at, ledger_id = excluded.ledger_id
