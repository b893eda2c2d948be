SELECT r.request_id, s.code AS store, r.kind, r.requested_by, r.orders, r.rows_changed, r.started_at,
       r.completed_at
FROM ops.privacy_requests r JOIN ops.stores s USING (store_id)
WHERE CAST(:store AS text) IS NULL OR s.code = CAST(:store AS text)
ORDER BY r.request_id DESC
LIMIT :limit
