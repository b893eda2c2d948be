-- Record a source's mapping as a new version and make it the current one, in one statement so two
-- concurrent changes cannot both claim the same version (the primary key refuses the second).
WITH bumped AS (
    UPDATE ops.catalog_sources
    SET mapping = CAST(:mapping AS jsonb), mapping_version = mapping_version + 1, updated_at = now()
    WHERE source_id = :source_id
    RETURNING source_id, mapping_version, mapping
)
INSERT INTO ops.feed_mapping_versions (source_id, version, mapping, created_by)
SELECT source_id, mapping_version, mapping, :created_by FROM bumped
RETURNING version
