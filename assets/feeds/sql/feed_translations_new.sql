-- The titles and descriptions of the products just inserted: nothing to compare with, so a plain
-- insert (the translation columns as in feed_translations.sql).
INSERT INTO core.marketplace_product_translations
    (marketplace_product_id, language, title, description, description_text)
SELECT w.marketplace_product_id, t.language, t.title, t.description, t.description_text
FROM feed_written w
JOIN feed_stage s ON s.ctid = w.row_ref AND w.inserted
CROSS JOIN LATERAL unnest(CAST(:languages AS text[]), ARRAY[{titles}], ARRAY[{descriptions}], ARRAY[{texts}])
     AS t(language, title, description, description_text)
WHERE t.title IS NOT NULL OR t.description IS NOT NULL
