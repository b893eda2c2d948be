-- The mapping names no language: products just rewritten keep no translations from this source.
DELETE FROM core.marketplace_product_translations x
USING feed_written w
WHERE x.marketplace_product_id = w.marketplace_product_id AND NOT w.inserted
