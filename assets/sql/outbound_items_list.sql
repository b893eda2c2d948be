-- The columns are QueuedItem's field names, filled in by assets/outbound_queue.py.
SELECT {columns} FROM ops.outbound_queue
WHERE (CAST(:s AS text) IS NULL OR status = :s)
  AND (CAST(:a AS bigint) IS NULL OR account_id = :a)
  AND (CAST(:o AS bigint) IS NULL OR order_id = :o)
ORDER BY outbound_id LIMIT :lim
