-- Staged CSV rows into the store's catalog, keyed by SKU. A row identical to the stored product is
-- not written at all: it keeps its updated_at and leaves no dead tuple. Products missing from the
-- file are left alone (orders may point at them). Placeholders never collide: their SKUs are reserved.
WITH written AS (
    INSERT INTO core.products AS p (store_id, sku, gtin14, title, attributes)
    SELECT CAST(:store_id AS bigint), s.sku, s.gtin14, s.title, s.attributes
    FROM product_stage s
    ON CONFLICT (store_id, sku) DO UPDATE
        SET gtin14 = excluded.gtin14,
            title = excluded.title,
            attributes = excluded.attributes,
            updated_at = now()
        WHERE (p.gtin14, p.title, p.attributes)
              IS DISTINCT FROM (excluded.gtin14, excluded.title, excluded.attributes)
    -- xmax is 0 on a freshly inserted tuple and set on one that replaced an older version.
    RETURNING (p.xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) AS written
FROM written
