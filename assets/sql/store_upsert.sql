-- DO UPDATE, not DO NOTHING: an existing store's id comes back too.
INSERT INTO ops.stores (code) VALUES (:c)
ON CONFLICT (code) DO UPDATE SET code = excluded.code
RETURNING store_id
