DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['core.orders', 'core.order_items', 'core.products', 'core.stock_adjustments',
                             'core.marketplace_products', 'core.fulfillment_products', 'core.fulfillment_stock']
    LOOP
        EXECUTE 'DROP TRIGGER IF EXISTS stock_change_insert ON ' || t;
        EXECUTE 'DROP TRIGGER IF EXISTS stock_change_update ON ' || t;
        EXECUTE 'DROP TRIGGER IF EXISTS stock_change_delete ON ' || t;
    END LOOP;
END $$;
DROP TRIGGER IF EXISTS stock_counted ON ops.accounts;
DROP TRIGGER IF EXISTS stock_counted ON ops.import_runs;
DROP TRIGGER IF EXISTS stock_counted ON ops.feed_inbox;
DROP VIEW IF EXISTS analytics.stock_availability, analytics.inventory_sync_lag, analytics.stock_ledger, analytics.channel_stock, analytics.inventory_syncs;
DROP TABLE IF EXISTS ops.stock_changes, core.channel_stock, core.stock_ledger, ops.inventory_syncs,
    core.stock_listing_rules, core.stock_adjustments, ops.stock_settings;
DROP FUNCTION IF EXISTS ops.note_stock_change(), ops.note_stock_count(), core.units_after(timestamptz[], integer[], timestamptz),
    core.listed_quantity(integer, integer, integer, integer, boolean);
DROP FUNCTION IF EXISTS analytics.channel_availability(bigint), core.stock_availability(bigint, bigint),
    core.stock_order_units(bigint);
DROP TYPE IF EXISTS core.stock_terms;
DROP INDEX IF EXISTS core.orders_shipped;
ALTER TABLE ops.accounts DROP COLUMN IF EXISTS stock_counted_at;
