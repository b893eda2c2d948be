-- The price rules of store channels, with their account and store.
SELECT r.account_id, a.store_id, s.code AS store, a.channel, r.enabled, r.markup_percent, r.fixed_add, r.rounding,
       r.floor_price, r.ceiling_price, r.currency, r.delivery
FROM ops.price_rules r JOIN ops.accounts a USING (account_id) JOIN ops.stores s ON s.store_id = a.store_id
WHERE (CAST(:store AS text) IS NULL OR s.code = :store)
  AND (CAST(:channel AS text) IS NULL OR a.channel = :channel)
ORDER BY s.code, a.channel
