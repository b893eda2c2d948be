SELECT i.inbox_id, i.source_id, i.items, i.received_at, i.status, s.settings
FROM ops.feed_inbox i JOIN ops.catalog_sources s USING (source_id)
WHERE i.inbox_id = :i
FOR UPDATE OF i SKIP LOCKED
