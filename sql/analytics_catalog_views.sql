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

CREATE OR REPLACE VIEW analytics.import_runs WITH (security_barrier) AS
SELECT r.import_run_id, s.code AS store, src.name AS source, src.kind, r.status, r.mapping_version,
       r.rows_read, r.rows_loaded, r.rows_unchanged, r.rows_quarantined, r.started_at, r.finished_at,
       extract(epoch FROM r.finished_at - r.started_at) AS seconds
FROM ops.import_runs r
JOIN ops.catalog_sources src USING (source_id)
JOIN core.visible_stores s ON s.store_id = src.store_id;
