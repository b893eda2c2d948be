-- Every listing the channel acknowledged a price for that push :s has no ledger row for, at that price.
SELECT p.sku, c.acknowledged_price, c.currency
FROM core.channel_prices c JOIN core.products p USING (product_id)
WHERE c.account_id = :a
  AND NOT EXISTS (SELECT 1 FROM core.price_ledger l WHERE l.price_sync_id = :s AND l.product_id = c.product_id)
ORDER BY p.sku
