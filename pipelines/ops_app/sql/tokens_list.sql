SELECT t.token_id, t.name, s.code AS store, t.created_at, t.last_used_at, t.revoked_at
FROM ops.api_tokens t
LEFT JOIN ops.stores s ON s.store_id = t.store_id
ORDER BY t.name
