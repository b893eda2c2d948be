-- Which staged rows change the catalog: the last row per external id (a feed that repeats an id is
-- read top to bottom and the last one wins; rows carry the part of the file a parse worker read, in file
-- order), compared by content hash with what the source holds.
-- Only those rows are kept, so a refresh where 1% of the feed changed works on 1% after this scan.
-- A row older than the stored one (by the source's own timestamp) is stale: it never overwrites.
INSERT INTO feed_changes (row_ref, external_id, marketplace_product_id, stale)
SELECT s.row_ref, s.external_id, m.marketplace_product_id,
       coalesce(CAST(s.source_updated_at AS timestamptz) < m.source_updated_at, false)
FROM (SELECT DISTINCT ON (external_id) ctid AS row_ref, external_id, content_sha, source_updated_at
      FROM feed_stage
      ORDER BY external_id, part DESC, ctid DESC) s
LEFT JOIN core.marketplace_products m ON m.source_id = :source_id AND m.external_id = s.external_id
WHERE m.content_sha IS DISTINCT FROM s.content_sha
