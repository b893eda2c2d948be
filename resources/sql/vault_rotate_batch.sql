-- The next rows not yet under the newest key, locked; rows another rotation holds are skipped.
SELECT {key} AS owner_id, token FROM {table} WHERE key_id <> :k
ORDER BY {key} LIMIT :n FOR UPDATE SKIP LOCKED
