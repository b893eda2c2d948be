-- Pushed batches still waiting to be applied, oldest first: every one, or those up to an inbox id,
-- or those of one store's feeds.
SELECT i.inbox_id
FROM ops.feed_inbox i
JOIN ops.catalog_sources c USING (source_id)
JOIN ops.stores s ON s.store_id = c.store_id
WHERE i.status = 'pending'
  AND (CAST(:upto AS bigint) IS NULL OR i.inbox_id <= :upto)
  AND (CAST(:store AS text) IS NULL OR s.code = :store)
ORDER BY i.inbox_id
