-- New pool keys, in the order of the file (their ids give the pool its first-in-first-out order); a key a
-- concurrent import stored meanwhile is skipped, and the caller counts it as a duplicate.
INSERT INTO ops.digital_keys (store_id, product_id, source, kind, token, key_id, fingerprint)
SELECT :s, r.product_id, 'pool', r.kind, r.token, :k, r.fingerprint
FROM unnest(CAST(:p AS bigint[]), CAST(:kinds AS text[]), CAST(:t AS bytea[]), CAST(:f AS text[]))
     WITH ORDINALITY AS r(product_id, kind, token, fingerprint, n)
ORDER BY r.n
ON CONFLICT (store_id, fingerprint) DO NOTHING
RETURNING fingerprint
