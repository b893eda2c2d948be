-- Every listing of the store on account :a with what its price is computed from: the store's own price
-- and the catalog's (the marketplace product it lists), each with its currency, and what the channel last
-- acknowledged. Scope "known" (:catalog false): only products the channel already lists (it acknowledged
-- a stock number or a price for them).
SELECT p.product_id, p.sku, p.price AS store_price, coalesce(p.currency, mp.currency) AS store_currency,
       mp.price AS catalog_price, coalesce(mp.currency, p.currency) AS catalog_currency,
       cp.acknowledged_price, rtrim(cp.currency) AS acknowledged_currency
FROM core.products p
LEFT JOIN core.marketplace_products mp USING (marketplace_product_id)
LEFT JOIN core.channel_prices cp ON cp.account_id = :a AND cp.product_id = p.product_id
WHERE p.store_id = :s AND NOT p.is_placeholder
  AND (CAST(:sku AS text) IS NULL OR p.sku = :sku)
  AND (CAST(:catalog AS boolean) OR cp.product_id IS NOT NULL
       OR EXISTS (SELECT 1 FROM core.channel_stock cs WHERE cs.account_id = :a AND cs.product_id = p.product_id))
