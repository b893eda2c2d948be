INSERT INTO ops.feed_inbox (source_id, event_id, items, received_at, status, applied_at)
VALUES (:s, :e, CAST(:items AS jsonb), :r, :status, CASE WHEN :applied THEN CAST(:r AS timestamptz) END)
ON CONFLICT (source_id, event_id) DO NOTHING
RETURNING inbox_id
