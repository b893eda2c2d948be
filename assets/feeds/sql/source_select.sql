-- Catalog sources with their store's code; filtered by store, name, id and kind when given.
SELECT c.source_id, c.store_id, s.code AS store, c.name, c.kind, c.format, c.location, c.encoding,
       c.mapping, c.mapping_version, c.settings, c.enabled, c.created_at, c.updated_at
FROM ops.catalog_sources c
JOIN ops.stores s USING (store_id)
WHERE (CAST(:store AS text) IS NULL OR s.code = :store)
  AND (CAST(:name AS text) IS NULL OR c.name = :name)
  AND (CAST(:source_id AS bigint) IS NULL OR c.source_id = :source_id)
  AND (CAST(:kind AS text) IS NULL OR c.kind = :kind)
ORDER BY s.code, c.name
