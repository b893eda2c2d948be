-- The analysts' question views (re-applied at head, sql/analytics_question_views.sql) read the tables that
-- earlier revisions' downgrades drop: they go first.
DROP VIEW IF EXISTS analytics.sales_daily, analytics.order_lead_times, analytics.fulfilment_lead_times,
    analytics.exception_backlog, analytics.stock_cover, analytics.feed_import_health, analytics.sync_freshness;
DROP INDEX core.order_status_history_confirmed;
DROP INDEX core.orders_store_day;
