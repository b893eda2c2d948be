-- The repeatable views over these tables (sql/analytics_price_views.sql) go first.
DROP VIEW IF EXISTS analytics.channel_prices;
DROP VIEW IF EXISTS analytics.price_ledger;
DROP TABLE core.channel_prices;
DROP TABLE core.price_ledger;
DROP TABLE ops.price_syncs;
DROP TABLE ops.price_rules;
