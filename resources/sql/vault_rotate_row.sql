-- One row re-encrypted under the newest key.
UPDATE {table} SET token = :t, key_id = :k, updated_at = now() WHERE {key} = :a
