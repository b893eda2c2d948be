-- Staged CSV rows into the store's catalog, keyed by SKU. Products missing from the file are left
-- alone (orders may point at them). Placeholders never collide: their SKUs are reserved.
WITH staged AS (
    SELECT s.sku, s.gtin14, s.title,
           -- Keys are the header's optional columns; empty cells become nulls, then are left out.
           CASE WHEN s.attribute_values IS NULL THEN CAST('{}' AS jsonb)
                ELSE jsonb_strip_nulls(jsonb_object(
                         CAST(:attribute_keys AS text[]),
                         -- The leading separator keeps string_to_array from turning '' into {}.
                         (string_to_array(chr(31) || s.attribute_values, chr(31), ''))[2:]))
           END AS attributes
    FROM product_stage s
),
changed AS (
    -- Rows identical to the stored product go no further: ON CONFLICT locks, and so rewrites, every
    -- row it meets even when its WHERE then skips the update. Unchanged rows keep their updated_at.
    SELECT st.*
    FROM staged st
    WHERE NOT EXISTS (
        SELECT 1 FROM core.products cur
        WHERE cur.store_id = :store_id
          AND cur.sku = st.sku
          AND (cur.gtin14, cur.title, cur.attributes) IS NOT DISTINCT FROM (st.gtin14, st.title, st.attributes))
),
written AS (
    INSERT INTO core.products AS p (store_id, sku, gtin14, title, attributes)
    SELECT CAST(:store_id AS bigint), c.sku, c.gtin14, c.title, c.attributes
    FROM changed c
    ON CONFLICT (store_id, sku) DO UPDATE
        SET gtin14 = excluded.gtin14,
            title = excluded.title,
            attributes = excluded.attributes,
            updated_at = now()
        -- Checked again here: a concurrent load may have written the same values meanwhile.
        WHERE (p.gtin14, p.title, p.attributes)
              IS DISTINCT FROM (excluded.gtin14, excluded.title, excluded.attributes)
    -- xmax is 0 on a freshly inserted tuple and set on one that replaced an older version.
    RETURNING (p.xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) AS written
FROM written
