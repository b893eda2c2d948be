DROP VIEW IF EXISTS analytics.store_catalog, analytics.import_runs;
DROP FUNCTION IF EXISTS core.products_with_gtin(bigint, char);
DROP TABLE IF EXISTS ops.feed_daily_usage, ops.feed_inbox;
ALTER TABLE ops.quarantine DROP COLUMN IF EXISTS import_run_id;
DROP TABLE IF EXISTS ops.import_runs, core.product_translations;
ALTER TABLE core.products DROP COLUMN IF EXISTS marketplace_product_id, DROP COLUMN IF EXISTS mpn,
    DROP COLUMN IF EXISTS brand, DROP COLUMN IF EXISTS price, DROP COLUMN IF EXISTS currency,
    DROP COLUMN IF EXISTS availability, DROP COLUMN IF EXISTS quantity, DROP COLUMN IF EXISTS product_type;
DROP TABLE IF EXISTS core.marketplace_product_translations, core.marketplace_products,
    ops.source_credentials, ops.feed_mapping_versions, ops.catalog_sources;
ALTER TABLE ops.stores DROP COLUMN IF EXISTS language_fallback;
