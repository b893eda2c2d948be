-- The token with this id: its digest (compared by the caller, in constant time), its store, whether it is
-- revoked, and whether its last use is more than a minute old (then the caller notes this one).
SELECT t.token_id, t.name, t.token_sha256, t.store_id, s.code AS store, t.revoked_at IS NOT NULL AS revoked,
       t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute' AS use_to_note
FROM ops.api_tokens t
LEFT JOIN ops.stores s ON s.store_id = t.store_id
WHERE t.token_id = :token_id
