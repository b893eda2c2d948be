SELECT s.code FROM ops.catalog_sources c JOIN ops.stores s USING (store_id)
WHERE c.kind = :k AND c.name = :n AND c.enabled
ORDER BY s.code
