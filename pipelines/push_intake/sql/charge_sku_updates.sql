-- Add :n to today's count unless that would pass :limit: then nothing is added and no row comes back.
INSERT INTO ops.feed_daily_usage AS u (source_id, day, sku_updates) VALUES (:s, :d, :n)
ON CONFLICT (source_id, day) DO UPDATE SET sku_updates = u.sku_updates + excluded.sku_updates
WHERE u.sku_updates + excluded.sku_updates <= :limit
RETURNING sku_updates
