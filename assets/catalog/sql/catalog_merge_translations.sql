-- Merge staged translations of the batch's products; identical ones are not written.
WITH staged AS (
    SELECT DISTINCT ON (m.marketplace_product_id, t.language)
           m.marketplace_product_id, t.language, t.title, t.description
    FROM stage_catalog_translations t
    JOIN core.marketplace_products m ON m.source_id = :source_id AND m.external_id = t.external_id
    ORDER BY m.marketplace_product_id, t.language, t.ctid DESC
),
changed AS (
    SELECT s.* FROM staged s
    LEFT JOIN core.marketplace_product_translations x
           ON x.marketplace_product_id = s.marketplace_product_id AND x.language = s.language
    WHERE x.marketplace_product_id IS NULL
       OR (x.title, x.description) IS DISTINCT FROM (s.title, s.description)
),
written AS (
    INSERT INTO core.marketplace_product_translations (marketplace_product_id, language, title, description)
    SELECT marketplace_product_id, language, title, description FROM changed
    ON CONFLICT (marketplace_product_id, language) DO UPDATE
        SET title = excluded.title, description = excluded.description
    RETURNING 1
)
SELECT count(*) FROM written;
