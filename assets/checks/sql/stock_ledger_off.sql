-- What each channel lists (core.channel_stock) against the ledger: an acknowledged quantity that names a
-- ledger row must be that row's pushed quantity, for the same listing, with an answer the channel gave
-- (accepted or delivered). Rows set by the drift check carry no ledger row (the channel's own number).
WITH off AS (
    SELECT c.account_id, c.product_id, c.acknowledged_quantity, l.pushed_quantity, l.answer, l.sku
    FROM core.channel_stock c
    LEFT JOIN core.stock_ledger l ON l.ledger_id = c.ledger_id
    WHERE c.ledger_id IS NOT NULL
      AND (l.ledger_id IS NULL OR l.account_id <> c.account_id OR l.product_id <> c.product_id
           OR l.pushed_quantity <> c.acknowledged_quantity OR l.answer NOT IN ('accepted', 'delivered'))
)
SELECT count(*) AS failing,
       (array_agg(coalesce(sku, 'product ' || product_id) || ': acknowledged ' || acknowledged_quantity
                  || ', ledger ' || coalesce(pushed_quantity::text || ' ' || answer, 'missing')
                  ORDER BY account_id, product_id))[1:5] AS examples
FROM off
