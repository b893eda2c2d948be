-- Encrypt-and-keep one owner's secret fields (replacing earlier ones). {table} and {key}: a vault table
-- and its owner column (VaultOperations._TABLES).
INSERT INTO {table} ({key}, token, key_id) VALUES (:a, :t, :k)
ON CONFLICT ({key}) DO UPDATE
SET token = excluded.token, key_id = excluded.key_id, updated_at = now()
