-- The repeatable view that reads the column (sql/analytics_catalog_views.sql) goes first; the next
-- upgrade creates it again.
DROP VIEW IF EXISTS analytics.store_catalog;
ALTER TABLE core.marketplace_product_translations DROP COLUMN description_text;
