-- The first mapping of a new source is version 1.
INSERT INTO ops.feed_mapping_versions (source_id, version, mapping, created_by)
SELECT source_id, mapping_version, mapping, :created_by FROM ops.catalog_sources WHERE source_id = :source_id
