-- Merge the staged batch into core.marketplace_products. Unchanged rows (same content hash) are not
-- written at all: an UPDATE ... FROM that skips them and an INSERT of only the new keys, rather than
-- INSERT ... ON CONFLICT, which would lock (and so dirty) every existing row it meets.
-- A row staged twice in one batch: the last one wins (DISTINCT ON keeps the highest ctid).
WITH staged AS (
    SELECT DISTINCT ON (external_id) s.*,
           md5(row(s.gtin14, s.sku, s.mpn, s.brand, s.price, s.currency, s.availability, s.quantity,
                   coalesce(s.product_type, 'physical'), s.platform, s.regions, s.languages,
                   coalesce(s.attributes, '{}'::jsonb))::text) AS content_sha
    FROM stage_catalog s
    ORDER BY external_id, s.ctid DESC
),
current AS (
    SELECT s.*, m.marketplace_product_id, m.content_sha AS stored_sha, m.source_updated_at AS stored_at
    FROM staged s
    LEFT JOIN core.marketplace_products m ON m.source_id = :source_id AND m.external_id = s.external_id
),
updated AS (
    UPDATE core.marketplace_products m SET
        gtin14 = c.gtin14, sku = c.sku, mpn = c.mpn, brand = c.brand, price = c.price, currency = c.currency,
        availability = c.availability, quantity = c.quantity, product_type = coalesce(c.product_type, 'physical'),
        platform = c.platform, regions = c.regions, languages = c.languages,
        attributes = coalesce(c.attributes, '{}'::jsonb),
        source_updated_at = coalesce(c.source_updated_at, m.source_updated_at),
        content_sha = c.content_sha, updated_at = now()
    FROM current c
    WHERE m.marketplace_product_id = c.marketplace_product_id
      AND c.stored_sha <> c.content_sha
      AND (c.source_updated_at IS NULL OR c.stored_at IS NULL OR c.source_updated_at >= c.stored_at)
    RETURNING 1
),
inserted AS (
    INSERT INTO core.marketplace_products (
        source_id, external_id, gtin14, sku, mpn, brand, price, currency, availability, quantity,
        product_type, platform, regions, languages, attributes, source_updated_at, content_sha)
    SELECT :source_id, c.external_id, c.gtin14, c.sku, c.mpn, c.brand, c.price, c.currency, c.availability,
           c.quantity, coalesce(c.product_type, 'physical'), c.platform, c.regions, c.languages,
           coalesce(c.attributes, '{}'::jsonb), c.source_updated_at, c.content_sha
    FROM current c
    WHERE c.marketplace_product_id IS NULL
    ON CONFLICT (source_id, external_id) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM staged) AS staged,
       (SELECT count(*) FROM inserted) AS inserted,
       (SELECT count(*) FROM updated) AS updated,
       (SELECT count(*) FROM current c WHERE c.marketplace_product_id IS NOT NULL
          AND c.stored_sha <> c.content_sha
          AND c.source_updated_at < c.stored_at) AS stale;
