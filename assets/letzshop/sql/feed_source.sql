SELECT c.source_id, c.store_id, s.code AS store, c.encoding, c.settings, c.enabled
FROM ops.catalog_sources c JOIN ops.stores s USING (store_id)
WHERE s.code = :s AND c.name = :n AND c.kind = :k
