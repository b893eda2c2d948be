-- How many listings the store channel has (the scope of listings.sql, every one of them).
SELECT count(*)
FROM core.products p
WHERE p.store_id = :s AND NOT p.is_placeholder
  AND (CAST(:catalog AS boolean)
       OR EXISTS (SELECT 1 FROM core.channel_prices cp WHERE cp.account_id = :a AND cp.product_id = p.product_id)
       OR EXISTS (SELECT 1 FROM core.channel_stock cs WHERE cs.account_id = :a AND cs.product_id = p.product_id))
