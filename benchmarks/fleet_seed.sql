-- The fleet benchmark's stores: :stores stores, each with a Letzshop, an Amazon and an eBay account on
-- the simulators (never synced, so every one is due at once).
WITH stores AS (
    INSERT INTO ops.stores (code)
    SELECT format('fleet%s', lpad(n::text, 5, '0')) FROM generate_series(1, :stores) AS n
    RETURNING store_id, code
)
INSERT INTO ops.accounts (store_id, channel, endpoint, settings)
SELECT s.store_id, c.channel,
       CASE c.channel WHEN 'letzshop' THEN :letzshop WHEN 'amazon' THEN :amazon ELSE :ebay END,
       CASE c.channel
           WHEN 'amazon' THEN jsonb_build_object('seller_id', 'S' || s.code, 'first_import_days', 120,
                                                 'marketplace_ids', CAST(:marketplaces AS jsonb))
           WHEN 'ebay' THEN '{"first_import_days": 120}'::jsonb
           ELSE '{"page_size": 50}'::jsonb END
FROM stores s CROSS JOIN unnest(ARRAY['letzshop', 'amazon', 'ebay']) AS c(channel);
