-- The titles and descriptions of the products just updated, one row per language the mapping names
-- (the stage's title_1, title_2, ..., description_1, ... and description_text_1, ... columns, in the
-- order of :languages).
-- A language the source no longer gives for a product is removed; identical texts are not rewritten.
WITH given AS (
    SELECT w.marketplace_product_id, t.language, t.title, t.description, t.description_text
    FROM feed_written w
    JOIN feed_stage s ON s.ctid = w.row_ref AND NOT w.inserted
    CROSS JOIN LATERAL unnest(CAST(:languages AS text[]), ARRAY[{titles}], ARRAY[{descriptions}], ARRAY[{texts}])
         AS t(language, title, description, description_text)
    WHERE t.title IS NOT NULL OR t.description IS NOT NULL
),
-- What those products hold now: a few rows each, found by index.
existing AS (
    SELECT x.marketplace_product_id, x.language, x.title, x.description, x.description_text
    FROM feed_written w
    JOIN core.marketplace_product_translations x ON x.marketplace_product_id = w.marketplace_product_id
    WHERE NOT w.inserted
),
removed AS (
    DELETE FROM core.marketplace_product_translations x
    USING existing e
    WHERE x.marketplace_product_id = e.marketplace_product_id AND x.language = e.language
      AND NOT EXISTS (SELECT 1 FROM given g
                      WHERE g.marketplace_product_id = e.marketplace_product_id AND g.language = e.language)
    RETURNING 1
),
-- Only new or different texts reach the upsert (an upsert of an identical row still costs a
-- speculative insertion and a lock).
written AS (
    INSERT INTO core.marketplace_product_translations AS x
        (marketplace_product_id, language, title, description, description_text)
    SELECT g.marketplace_product_id, g.language, g.title, g.description, g.description_text
    FROM given g
    LEFT JOIN existing e ON e.marketplace_product_id = g.marketplace_product_id AND e.language = g.language
    WHERE e.marketplace_product_id IS NULL
       OR (e.title, e.description, e.description_text) IS DISTINCT FROM (g.title, g.description, g.description_text)
    ON CONFLICT (marketplace_product_id, language) DO UPDATE
        SET title = excluded.title, description = excluded.description, description_text = excluded.description_text
        WHERE (x.title, x.description, x.description_text)
              IS DISTINCT FROM (excluded.title, excluded.description, excluded.description_text)
    RETURNING 1
)
SELECT (SELECT count(*) FROM written) AS written, (SELECT count(*) FROM removed) AS removed
