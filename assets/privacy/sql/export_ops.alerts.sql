SELECT jsonb_build_object('kind', l.source, 'created_at', l.created_at, 'message', l.message)
FROM ops.alerts l
WHERE (l.store_id = :store_id OR l.store_id IS NULL) AND ops.mentions_personal(l.message, CAST(:known AS text[]))
ORDER BY l.alert_id
