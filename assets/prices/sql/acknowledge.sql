-- Accepted and delivered prices become what the channel acknowledged: the next push is a delta from them.
-- With the inputs they were computed from (:rule, the push's rule terms), so an unchanged listing is not
-- computed again.
INSERT INTO core.channel_prices AS c (account_id, product_id, acknowledged_price, currency, base_price, base_source,
                                      rule_terms, acknowledged_at, ledger_id)
SELECT l.account_id, l.product_id, l.final_price, l.currency, l.base_price, l.base_source, :rule, l.answered_at,
       l.ledger_id
FROM core.price_ledger l
WHERE l.price_sync_id = :s AND l.answer IN ('accepted', 'delivered')
ON CONFLICT (account_id, product_id) DO UPDATE SET
    acknowledged_price = excluded.acknowledged_price, currency = excluded.currency,
    base_price = excluded.base_price, base_source = excluded.base_source, rule_terms = excluded.rule_terms,
    acknowledged_at = excluded.acknowledged_at, ledger_id = excluded.ledger_id
