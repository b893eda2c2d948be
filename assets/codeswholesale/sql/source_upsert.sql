-- The store's CodesWholesale source, its settings merged into the existing ones. No row comes back when
-- the store has a source of that name of another kind.
INSERT INTO ops.catalog_sources (store_id, name, kind, format, location, settings)
VALUES (:s, :n, :k, 'json', :l, CAST(:st AS jsonb))
ON CONFLICT (store_id, name) DO UPDATE SET
    location = excluded.location,
    settings = ops.catalog_sources.settings || excluded.settings,
    updated_at = now()
WHERE ops.catalog_sources.kind = excluded.kind
RETURNING source_id
