SELECT cs.source_id, cs.settings, cs.enabled
FROM ops.catalog_sources cs JOIN ops.stores s USING (store_id)
WHERE s.code = :store AND cs.name = :feed AND cs.kind = 'push_feed'
