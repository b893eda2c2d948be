-- The store's catalog as shoppers see it: the store's overrides over the marketplace product's values
-- (the same rule as the Letzshop catalog export, assets/letzshop/sql/catalog_export_rows.sql), and title
-- and description in the first language of the store's fallback chain that has one, with the
-- description's plain text (a supplier's HTML description without its markup). Like every
-- analytics view, of the stores the current user reads (core.visible_stores; sql/analytics_views.sql).
CREATE OR REPLACE VIEW analytics.store_catalog WITH (security_barrier) AS
SELECT p.product_id, s.code AS store, p.sku,
       coalesce(p.gtin14, mp.gtin14)             AS gtin14,
       coalesce(p.mpn, mp.mpn)                   AS mpn,
       coalesce(p.brand, mp.brand)               AS brand,
       coalesce(p.price, mp.price)               AS price,
       coalesce(p.currency, mp.currency)         AS currency,
       coalesce(p.availability, mp.availability) AS availability,
       coalesce(p.quantity, mp.quantity)         AS quantity,
       coalesce(p.product_type, mp.product_type, 'physical') AS product_type,
       mp.platform, mp.regions,
       src.name AS source, mp.external_id,
       coalesce(title.value, p.title)            AS title,
       title.language                            AS title_language,
       description.value                         AS description,
       description.language                      AS description_language,
       description.plain                         AS description_text
FROM core.products p
JOIN core.visible_stores s USING (store_id)
LEFT JOIN core.marketplace_products mp USING (marketplace_product_id)
LEFT JOIN ops.catalog_sources src ON src.source_id = mp.source_id
LEFT JOIN LATERAL (
    SELECT f.language, coalesce(pt.title, mpt.title) AS value
    FROM unnest(s.language_fallback) WITH ORDINALITY AS f(language, rank)
    LEFT JOIN core.product_translations pt ON pt.product_id = p.product_id AND pt.language = f.language
    LEFT JOIN core.marketplace_product_translations mpt
           ON mpt.marketplace_product_id = p.marketplace_product_id AND mpt.language = f.language
    WHERE coalesce(pt.title, mpt.title) IS NOT NULL
    ORDER BY f.rank LIMIT 1) title ON true
LEFT JOIN LATERAL (
    SELECT f.language, coalesce(pt.description, mpt.description) AS value,
           CASE WHEN pt.description IS NULL THEN coalesce(mpt.description_text, mpt.description)
                ELSE pt.description END AS plain
    FROM unnest(s.language_fallback) WITH ORDINALITY AS f(language, rank)
    LEFT JOIN core.product_translations pt ON pt.product_id = p.product_id AND pt.language = f.language
    LEFT JOIN core.marketplace_product_translations mpt
           ON mpt.marketplace_product_id = p.marketplace_product_id AND mpt.language = f.language
    WHERE coalesce(pt.description, mpt.description) IS NOT NULL
    ORDER BY f.rank LIMIT 1) description ON true
WHERE NOT p.is_placeholder;

COMMENT ON VIEW analytics.store_catalog IS
    'One row per store product (placeholders left out), as shoppers see it: the store''s own values over its catalog source''s (a null inherits), title and description in the first language of the store''s fallback chain that has one.';
COMMENT ON COLUMN analytics.store_catalog.product_id IS 'The store product (core.products).';
COMMENT ON COLUMN analytics.store_catalog.store IS 'The store''s code (core.visible_stores.code).';
COMMENT ON COLUMN analytics.store_catalog.sku IS 'The store''s SKU.';
COMMENT ON COLUMN analytics.store_catalog.gtin14 IS 'GTIN-14: the store''s own, else the catalog source''s.';
COMMENT ON COLUMN analytics.store_catalog.mpn IS 'Manufacturer part number: the store''s own, else the source''s.';
COMMENT ON COLUMN analytics.store_catalog.brand IS 'Brand: the store''s own, else the source''s.';
COMMENT ON COLUMN analytics.store_catalog.price IS 'Selling price in `currency`: the store''s own, else the catalog source''s.';
COMMENT ON COLUMN analytics.store_catalog.currency IS 'ISO 4217 code of price: the store''s own, else the source''s.';
COMMENT ON COLUMN analytics.store_catalog.availability IS 'Availability text: the store''s own, else the source''s (free text, as the source states it).';
COMMENT ON COLUMN analytics.store_catalog.quantity IS 'Units in stock: the store''s own quantity, else the source''s.';
COMMENT ON COLUMN analytics.store_catalog.product_type IS 'physical or digital: the store''s own, else the source''s, else physical.';
COMMENT ON COLUMN analytics.store_catalog.platform IS 'For digital keys: the platform (from the catalog source, e.g. Steam).';
COMMENT ON COLUMN analytics.store_catalog.regions IS 'For digital keys: the regions they work in (from the catalog source).';
COMMENT ON COLUMN analytics.store_catalog.source IS 'The name of the catalog source the product comes from; null when it lists none.';
COMMENT ON COLUMN analytics.store_catalog.external_id IS 'The catalog source''s own id of the product.';
COMMENT ON COLUMN analytics.store_catalog.title IS 'The title in title_language; the store''s own CSV title when no language has one.';
COMMENT ON COLUMN analytics.store_catalog.title_language IS 'The language of title (two letters); null when it is the untranslated CSV title.';
COMMENT ON COLUMN analytics.store_catalog.description IS 'The description in description_language as written (HTML included).';
COMMENT ON COLUMN analytics.store_catalog.description_language IS 'The language of description (two letters).';
COMMENT ON COLUMN analytics.store_catalog.description_text IS 'The description as plain text (a supplier''s HTML without its markup).';

CREATE OR REPLACE VIEW analytics.import_runs WITH (security_barrier) AS
SELECT r.import_run_id, s.code AS store, src.name AS source, src.kind, r.status, r.mapping_version,
       r.rows_read, r.rows_loaded, r.rows_unchanged, r.rows_quarantined, r.started_at, r.finished_at,
       extract(epoch FROM r.finished_at - r.started_at) AS seconds, r.rows_skipped
FROM ops.import_runs r
JOIN ops.catalog_sources src USING (source_id)
JOIN core.visible_stores s ON s.store_id = src.store_id;

COMMENT ON VIEW analytics.import_runs IS
    'One row per catalog import of a catalog source (a feed download, a CodesWholesale sync), with its status and row counts; a finished run accounts for every row it read.';
COMMENT ON COLUMN analytics.import_runs.import_run_id IS 'Warehouse key of the run; increases with time.';
COMMENT ON COLUMN analytics.import_runs.store IS 'The store''s code (core.visible_stores.code).';
COMMENT ON COLUMN analytics.import_runs.source IS 'The catalog source''s name.';
COMMENT ON COLUMN analytics.import_runs.kind IS 'The source''s kind: letzshop_feed, codeswholesale, pull_feed, push_feed.';
COMMENT ON COLUMN analytics.import_runs.status IS 'pending, downloading, parsing, upserting, completed, partially_completed (some rows quarantined) or failed.';
COMMENT ON COLUMN analytics.import_runs.mapping_version IS 'The version of the source''s column mapping the run used.';
COMMENT ON COLUMN analytics.import_runs.rows_read IS 'Rows read from the source.';
COMMENT ON COLUMN analytics.import_runs.rows_loaded IS 'Rows inserted or changed in the catalog.';
COMMENT ON COLUMN analytics.import_runs.rows_unchanged IS 'Rows identical to what the catalog held.';
COMMENT ON COLUMN analytics.import_runs.rows_quarantined IS 'Rows that could not be used (kept with their reason for the operations team).';
COMMENT ON COLUMN analytics.import_runs.started_at IS 'When the run started.';
COMMENT ON COLUMN analytics.import_runs.finished_at IS 'When it finished; null while running.';
COMMENT ON COLUMN analytics.import_runs.seconds IS 'Duration in seconds; null while running.';
COMMENT ON COLUMN analytics.import_runs.rows_skipped IS
    'Rows of the file that are no product of their own (passed over by the mapping''s skip rules, or a grouped feed''s rows folded into their group''s product): not part of rows_read.';
