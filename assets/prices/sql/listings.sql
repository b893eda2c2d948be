-- The listings of the store on account :a with what their price is computed from: the store's own price
-- and the catalog's (the marketplace product it lists), each with its currency, and what the channel last
-- acknowledged. Scope "known" (:catalog false): only products the channel already lists (it acknowledged
-- a stock number or a price for them). Unless :everything, only the listings whose inputs differ from
-- those of their acknowledged price (base, its source and currency, the rule's terms :rule): the others'
-- price is the acknowledged one (the rule is a function of these inputs alone), so no push computes them.
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
  AND (CAST(:everything AS boolean) OR cp.product_id IS NULL
       OR cp.rule_terms IS DISTINCT FROM CAST(:rule AS text)
       OR cp.base_price IS DISTINCT FROM coalesce(p.price, mp.price)
       OR cp.base_source IS DISTINCT FROM (CASE WHEN p.price IS NOT NULL THEN 'store' ELSE 'catalog' END)
       OR cp.currency IS DISTINCT FROM CAST(coalesce(CASE WHEN p.price IS NOT NULL THEN coalesce(p.currency, mp.currency)
                                                          ELSE coalesce(mp.currency, p.currency) END,
                                                     CAST(:currency AS text)) AS char(3)))
