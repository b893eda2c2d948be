-- The titles and descriptions of the products just updated, one row per language the mapping names
-- (the stage's title_1, title_2, ... and description_1, ... columns, in the order of :languages).
-- A language the source no longer gives for a product is removed; identical texts are not rewritten.
WITH given AS (
    SELECT w.marketplace_product_id, t.language, t.title, t.description
    FROM feed_written w
    JOIN feed_stage s ON s.ctid = w.row_ref AND NOT w.inserted
    CROSS JOIN LATERAL unnest(CAST(:languages AS text[]), ARRAY[{titles}], ARRAY[{descriptions}])
         AS t(language, title, description)
    WHERE t.title IS NOT NULL OR t.description IS NOT NULL
),
removed AS (
    DELETE FROM core.marketplace_product_translations x
    USING feed_written w
    WHERE x.marketplace_product_id = w.marketplace_product_id AND NOT w.inserted
      AND NOT EXISTS (SELECT 1 FROM given g
                      WHERE g.marketplace_product_id = x.marketplace_product_id AND g.language = x.language)
    RETURNING 1
),
written AS (
    INSERT INTO core.marketplace_product_translations AS x (marketplace_product_id, language, title, description)
    SELECT marketplace_product_id, language, title, description FROM given
    ON CONFLICT (marketplace_product_id, language) DO UPDATE
        SET title = excluded.title, description = excluded.description
        WHERE (x.title, x.description) IS DISTINCT FROM (excluded.title, excluded.description)
    RETURNING 1
)
SELECT (SELECT count(*) FROM written) AS written, (SELECT count(*) FROM removed) AS removed
