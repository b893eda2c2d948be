-- One row re-encrypted under the newest key, its fingerprint re-made under that key (license keys: a
-- copy imported later is refused whichever key its fingerprint is compared under).
UPDATE {table} SET token = :t, key_id = :k, fingerprint = :f WHERE {key} = :a
