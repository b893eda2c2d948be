-- Write the changed rows: update the products the source already has (unless the row is stale),
-- insert the new ones, and note both in feed_written for their translations. Unchanged products are
-- not touched at all: no new row version, no dirty page, nothing for replication or VACUUM.
WITH updated AS (
    UPDATE core.marketplace_products m SET
        gtin14 = s.gtin14, sku = s.sku, mpn = s.mpn, brand = s.brand,
        price = CAST(s.price AS numeric), currency = s.currency, availability = s.availability,
        quantity = CAST(s.quantity AS integer), product_type = s.product_type, platform = s.platform,
        regions = CAST(s.regions AS text[]), languages = CAST(s.languages AS text[]),
        attributes = CAST(s.attributes AS jsonb),
        source_updated_at = coalesce(CAST(s.source_updated_at AS timestamptz), m.source_updated_at),
        content_sha = s.content_sha, updated_at = now()
    FROM feed_changes c
    JOIN feed_stage s ON s.ctid = c.row_ref
    WHERE m.marketplace_product_id = c.marketplace_product_id AND NOT c.stale
    RETURNING m.marketplace_product_id, c.row_ref
),
inserted AS (
    INSERT INTO core.marketplace_products (
        source_id, external_id, gtin14, sku, mpn, brand, price, currency, availability, quantity,
        product_type, platform, regions, languages, attributes, source_updated_at, content_sha)
    SELECT :source_id, s.external_id, s.gtin14, s.sku, s.mpn, s.brand, CAST(s.price AS numeric), s.currency,
           s.availability, CAST(s.quantity AS integer), s.product_type, s.platform,
           CAST(s.regions AS text[]), CAST(s.languages AS text[]), CAST(s.attributes AS jsonb),
           CAST(s.source_updated_at AS timestamptz), s.content_sha
    FROM feed_changes c
    JOIN feed_stage s ON s.ctid = c.row_ref
    -- A plain insert (no ON CONFLICT, which costs a speculative insertion per row): the load holds the
    -- source's lock (feed_lock.sql), so nobody else inserts this source's products meanwhile.
    WHERE c.marketplace_product_id IS NULL
    RETURNING marketplace_product_id, external_id
),
written AS (
    INSERT INTO feed_written (marketplace_product_id, row_ref, inserted)
    SELECT marketplace_product_id, row_ref, false FROM updated
    UNION ALL
    SELECT i.marketplace_product_id, c.row_ref, true
    FROM inserted i JOIN feed_changes c ON c.external_id = i.external_id
    RETURNING inserted
)
SELECT count(*) FILTER (WHERE inserted) AS inserted,
       count(*) FILTER (WHERE NOT inserted) AS updated,
       (SELECT count(*) FROM feed_changes WHERE stale) AS stale
FROM written
