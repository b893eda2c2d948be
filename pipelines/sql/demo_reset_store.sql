-- Everything the demo store :s owns, children first: a demo run starts from a clean store.
-- Statements run one by one (demo_world.run_statements): each ends with ';' at the end of its line.
DELETE FROM ops.alerts WHERE store_id = :s;
DELETE FROM ops.notification_routes WHERE store_id = :s;
DELETE FROM ops.metric_thresholds WHERE store_id = :s;
DELETE FROM ops.digital_keys WHERE store_id = :s;
DELETE FROM ops.digital_purchases WHERE store_id = :s;
DELETE FROM ops.digital_products WHERE store_id = :s;
DELETE FROM core.stock_ledger WHERE account_id IN (SELECT account_id FROM ops.accounts WHERE store_id = :s);
DELETE FROM ops.inventory_syncs WHERE account_id IN (SELECT account_id FROM ops.accounts WHERE store_id = :s);
DELETE FROM ops.stock_settings WHERE account_id IN (SELECT account_id FROM ops.accounts WHERE store_id = :s);
DELETE FROM ops.stock_changes WHERE store_id = :s;
DELETE FROM ops.outbound_queue WHERE account_id IN (SELECT account_id FROM ops.accounts WHERE store_id = :s);
DELETE FROM ops.order_exceptions WHERE store_id = :s;
DELETE FROM core.orders WHERE store_id = :s;
DELETE FROM raw.letzshop_shipments WHERE account_id IN (SELECT account_id FROM ops.accounts WHERE store_id = :s);
DELETE FROM ops.quarantine WHERE account_id IN (SELECT account_id FROM ops.accounts WHERE store_id = :s);
DELETE FROM ops.sync_log WHERE account_id IN (SELECT account_id FROM ops.accounts WHERE store_id = :s);
DELETE FROM core.products WHERE store_id = :s;
DELETE FROM core.marketplace_products
WHERE source_id IN (SELECT source_id FROM ops.catalog_sources WHERE store_id = :s);
DELETE FROM ops.quarantine
WHERE import_run_id IN (SELECT import_run_id FROM ops.import_runs
                        WHERE source_id IN (SELECT source_id FROM ops.catalog_sources WHERE store_id = :s));
DELETE FROM ops.import_runs WHERE source_id IN (SELECT source_id FROM ops.catalog_sources WHERE store_id = :s);
DELETE FROM ops.feed_inbox WHERE source_id IN (SELECT source_id FROM ops.catalog_sources WHERE store_id = :s);
DELETE FROM ops.catalog_sources WHERE store_id = :s;
