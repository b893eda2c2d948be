-- A new catalog source of a store; its first mapping is version 1.
INSERT INTO ops.catalog_sources (store_id, name, kind, format, location, encoding, mapping, settings)
VALUES (:store_id, :name, :kind, :format, :location, :encoding, CAST(:mapping AS jsonb), CAST(:settings AS jsonb))
RETURNING source_id
