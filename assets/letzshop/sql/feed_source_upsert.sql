-- The store's Letzshop feed source, created or updated (its URLs replaced, other settings kept); no row
-- comes back when the store has a source of that name of another kind.
INSERT INTO ops.catalog_sources (store_id, name, kind, format, location, encoding, settings)
VALUES (:s, :n, :k, 'tsv', :l, :e, CAST(:st AS jsonb))
ON CONFLICT (store_id, name) DO UPDATE SET
    location = excluded.location, encoding = excluded.encoding,
    settings = (ops.catalog_sources.settings - 'urls') || excluded.settings, updated_at = now()
WHERE ops.catalog_sources.kind = excluded.kind
RETURNING source_id
