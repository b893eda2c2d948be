-- Views for analysts. They run with their owner's rights, so they may summarise ops tables that the
-- analyst role itself cannot read; nothing secret and no buyer's personal data is ever selected here
-- (buyers appear as core.orders.buyer_key; support's views in sql/support_views.sql show who they are).
-- Re-applied after every upgrade (resources/migrations.py).
-- Row-level security of the core tables does not apply inside a view (its owner owns them): every view
-- keeps to the stores the current user reads by joining core.visible_stores (every store for the analyst
-- role, the granted ones for a store role), and is a security barrier, so a function in the caller's query
-- never sees a row the view filters out.

CREATE OR REPLACE VIEW analytics.orders WITH (security_barrier) AS
SELECT o.order_id, s.code AS store, o.channel, o.order_number, o.shipment_number,
       o.channel_order_id, o.channel_shipment_id, o.buyer_key, o.customer_locale,
       sa.country_iso AS ship_country, sa.postcode_area AS ship_postcode_area, o.total, o.currency,
       o.channel_state, o.sync_status, o.ordered_at, o.imported_at, o.tracking_carrier, o.shipped_at,
       coalesce(i.units, 0) AS units,
       coalesce(i.matched_units, 0) AS matched_units,
       coalesce(x.open_exceptions, 0) AS open_exceptions,
       o.status
FROM core.orders o
JOIN core.visible_stores s USING (store_id)
LEFT JOIN core.order_addresses sa ON sa.order_id = o.order_id AND sa.kind = 'shipping'
LEFT JOIN LATERAL (
    SELECT sum(quantity) AS units,
           sum(quantity) FILTER (WHERE match_status = 'matched') AS matched_units
    FROM core.order_items WHERE order_id = o.order_id) i ON true
LEFT JOIN LATERAL (
    SELECT count(*) AS open_exceptions FROM ops.order_exceptions
    WHERE order_id = o.order_id AND status IN ('pending', 'ignored')) x ON true;

COMMENT ON VIEW analytics.orders IS
    'Grain: one row per order as core.orders holds it (per shipment on Letzshop), with its store, pseudonymous buyer key, shipping country and postcode area, unit counts, open exceptions and cross-channel status. No personal data: support.order_contacts has who bought it.';
COMMENT ON COLUMN analytics.orders.order_id IS 'Warehouse key of the order (core.orders).';
COMMENT ON COLUMN analytics.orders.store IS 'The store''s code (core.visible_stores.code).';
COMMENT ON COLUMN analytics.orders.channel IS 'The channel the order came from: letzshop, amazon, ebay or storefront.';
COMMENT ON COLUMN analytics.orders.order_number IS 'The order number people see (Letzshop R..., Amazon and eBay orderId, the storefront''s number).';
COMMENT ON COLUMN analytics.orders.shipment_number IS 'Letzshop''s shipment number (H...); null on other channels.';
COMMENT ON COLUMN analytics.orders.channel_order_id IS 'The channel''s id of the order.';
COMMENT ON COLUMN analytics.orders.channel_shipment_id IS 'The channel''s id of the shipment (Letzshop); the order id on other channels.';
COMMENT ON COLUMN analytics.orders.customer_locale IS 'The buyer''s language as the channel sends it (Letzshop, storefront); null for Amazon and eBay.';
COMMENT ON COLUMN analytics.orders.buyer_key IS 'The buyer, pseudonymous (core.orders.buyer_key): one key per buyer e-mail address within a store, another in another store, irreversible without the store''s key; count repeat buyers with it. Null without an address or after the buyer''s data was removed.';
COMMENT ON COLUMN analytics.orders.ship_country IS 'Country of the shipping address, ISO 3166-1 alpha-2 (core.order_addresses.country_iso); null without one.';
COMMENT ON COLUMN analytics.orders.ship_postcode_area IS 'The shipping postcode''s area (core.order_addresses.postcode_area): the first two digits of a numeric postcode, a UK postcode area''s letters; null where unknown or removed. For maps without addresses.';
COMMENT ON COLUMN analytics.orders.total IS 'The order total as the channel reports it, in the order''s currency, `currency`.';
COMMENT ON COLUMN analytics.orders.currency IS 'ISO 4217 currency code of total.';
COMMENT ON COLUMN analytics.orders.channel_state IS 'The order''s state as the channel reports it (core.order_status_map says what it means).';
COMMENT ON COLUMN analytics.orders.sync_status IS 'Where marketsync stands with the order: imported, confirming, confirmed, rejecting, rejected, shipped.';
COMMENT ON COLUMN analytics.orders.ordered_at IS 'When the buyer ordered, as the channel says.';
COMMENT ON COLUMN analytics.orders.imported_at IS 'When the order first reached the warehouse.';
COMMENT ON COLUMN analytics.orders.tracking_carrier IS 'The parcel''s carrier, from the channel or set by us.';
COMMENT ON COLUMN analytics.orders.shipped_at IS 'When marketsync recorded the order as shipped; null while not shipped.';
COMMENT ON COLUMN analytics.orders.units IS 'Units ordered: sum of quantity over the order''s items (0 when it has none).';
COMMENT ON COLUMN analytics.orders.matched_units IS 'Of those units, how many are matched to a store product.';
COMMENT ON COLUMN analytics.orders.open_exceptions IS 'Matching exceptions of the order not resolved (pending or ignored).';
COMMENT ON COLUMN analytics.orders.status IS 'One status across channels: pending, confirmed, processing, shipped, delivered, fulfilled, cancelled, refunded, partially_refunded; null for a channel state not mapped yet.';

-- Units grouped into order lines: one line per order and channel variant, quantity = units.
CREATE OR REPLACE VIEW analytics.order_lines WITH (security_barrier) AS
SELECT i.order_id, o.order_number, s.code AS store, o.channel,
       i.channel_variant_id, min(i.sku) AS sku, min(i.gtin14) AS gtin14, min(i.title) AS title,
       min(i.product_id) AS product_id, min(p.sku) AS product_sku,
       sum(i.quantity) AS quantity, min(i.unit_price) AS unit_price,
       sum(i.unit_price * i.quantity) AS line_total,
       bool_and(i.match_status = 'matched') AS matched
FROM core.order_items i
JOIN core.orders o USING (order_id)
JOIN core.visible_stores s USING (store_id)
LEFT JOIN core.products p ON p.product_id = i.product_id
GROUP BY i.order_id, o.order_number, s.code, o.channel, i.channel_variant_id;

COMMENT ON VIEW analytics.order_lines IS
    'One row per order line: the units of one channel variant in one order (core.order_items grouped by order and channel_variant_id), with quantity, unit price and line total in the order''s currency.';
COMMENT ON COLUMN analytics.order_lines.order_id IS 'The order (core.orders).';
COMMENT ON COLUMN analytics.order_lines.order_number IS 'The order number people see.';
COMMENT ON COLUMN analytics.order_lines.store IS 'The store''s code (core.visible_stores.code).';
COMMENT ON COLUMN analytics.order_lines.channel IS 'The channel the order came from.';
COMMENT ON COLUMN analytics.order_lines.channel_variant_id IS 'The channel''s id of the variant sold (Letzshop variant id, Amazon ASIN, eBay item or variation id); null for the storefront, whose lines are then one row per order.';
COMMENT ON COLUMN analytics.order_lines.sku IS 'The SKU the channel sent (the lowest, if the units differ).';
COMMENT ON COLUMN analytics.order_lines.gtin14 IS 'The item''s normalised GTIN-14 (the lowest, if the units differ); null when none or invalid.';
COMMENT ON COLUMN analytics.order_lines.title IS 'The product title the channel sent.';
COMMENT ON COLUMN analytics.order_lines.product_id IS 'The store product the units were matched to (or a placeholder); null while matching is pending.';
COMMENT ON COLUMN analytics.order_lines.product_sku IS 'That store product''s SKU (core.products.sku).';
COMMENT ON COLUMN analytics.order_lines.quantity IS 'Units on the line (sum of the items'' quantity).';
COMMENT ON COLUMN analytics.order_lines.unit_price IS 'Price of one unit, in the order''s currency (core.orders.currency); the lowest if the units differ.';
COMMENT ON COLUMN analytics.order_lines.line_total IS 'sum(unit_price x quantity) over the line''s items, in the order''s currency.';
COMMENT ON COLUMN analytics.order_lines.matched IS 'True when every unit of the line is matched to a store product.';

CREATE OR REPLACE VIEW analytics.order_exceptions WITH (security_barrier) AS
SELECT e.exception_id, s.code AS store, o.channel, o.order_number, e.order_item_id, e.kind, e.status,
       e.gtin14, e.barcode, e.sku, e.resolved_product_id, e.resolution, e.resolved_at, e.created_at
FROM ops.order_exceptions e
JOIN core.visible_stores s USING (store_id)
JOIN core.orders o USING (order_id);

COMMENT ON VIEW analytics.order_exceptions IS
    'One row per matching exception and order item: the item matched no store product or several, or was matched by SKU to a product whose GTIN contradicts its barcode. Raised by the follow-ups matching step; a person resolves or ignores it (marketsync exceptions).';
COMMENT ON COLUMN analytics.order_exceptions.exception_id IS 'Warehouse key of the exception.';
COMMENT ON COLUMN analytics.order_exceptions.store IS 'The store''s code (core.visible_stores.code).';
COMMENT ON COLUMN analytics.order_exceptions.channel IS 'The channel of the order.';
COMMENT ON COLUMN analytics.order_exceptions.order_number IS 'The order number people see.';
COMMENT ON COLUMN analytics.order_exceptions.order_item_id IS 'The order item (core.order_items).';
COMMENT ON COLUMN analytics.order_exceptions.kind IS 'product_not_found (no product has its GTIN or SKU), duplicate_gtin (several products have its GTIN), gtin_mismatch (matched by SKU, but the products GTIN differs from the items barcode).';
COMMENT ON COLUMN analytics.order_exceptions.status IS 'pending (waits for a person), resolved (matched to a product), ignored.';
COMMENT ON COLUMN analytics.order_exceptions.gtin14 IS 'The item''s normalised GTIN-14; null when none or invalid.';
COMMENT ON COLUMN analytics.order_exceptions.barcode IS 'The barcode as the channel sent it.';
COMMENT ON COLUMN analytics.order_exceptions.sku IS 'The SKU the channel sent.';
COMMENT ON COLUMN analytics.order_exceptions.resolved_product_id IS 'The store product it was resolved to (core.products); null unless resolved.';
COMMENT ON COLUMN analytics.order_exceptions.resolution IS 'How it was resolved, in words; null while pending.';
COMMENT ON COLUMN analytics.order_exceptions.resolved_at IS 'When it was resolved or ignored; null while pending.';
COMMENT ON COLUMN analytics.order_exceptions.created_at IS 'When the exception was raised.';

CREATE OR REPLACE VIEW analytics.sync_log WITH (security_barrier) AS
SELECT l.sync_id, s.code AS store, a.channel, l.operation, l.direction, l.records_processed,
       l.records_succeeded, l.records_failed, jsonb_array_length(l.errors) AS error_count,
       l.started_at, l.completed_at, l.duration_ms, l.triggered_by
FROM ops.sync_log l
LEFT JOIN ops.accounts a USING (account_id)
LEFT JOIN core.visible_stores s ON s.store_id = a.store_id
-- An operation of no account (of no store) only for those who read every store.
WHERE s.store_id IS NOT NULL OR (l.account_id IS NULL AND (SELECT core.sees_every_store(current_user)));

COMMENT ON VIEW analytics.sync_log IS
    'One row per sync operation of a channel account (an order import, an outbound drain, a stock or price push, a stock drift check), with its record counts and duration. Operations of no account only for those who read every store.';
COMMENT ON COLUMN analytics.sync_log.sync_id IS 'Warehouse key of the operation; increases with time.';
COMMENT ON COLUMN analytics.sync_log.store IS 'The store''s code; null for an operation of no account.';
COMMENT ON COLUMN analytics.sync_log.channel IS 'The account''s channel; null for an operation of no account.';
COMMENT ON COLUMN analytics.sync_log.operation IS 'What ran: import_orders, outbound (a drain of the outbound queue), stock_push_<mode>, price_push_<mode>, stock_drift_check.';
COMMENT ON COLUMN analytics.sync_log.direction IS 'inbound (from a channel), outbound (to a channel) or internal.';
COMMENT ON COLUMN analytics.sync_log.records_processed IS 'Records the operation handled.';
COMMENT ON COLUMN analytics.sync_log.records_succeeded IS 'Of those, records it completed.';
COMMENT ON COLUMN analytics.sync_log.records_failed IS 'Of those, records that failed.';
COMMENT ON COLUMN analytics.sync_log.error_count IS 'Number of errors recorded for the operation.';
COMMENT ON COLUMN analytics.sync_log.started_at IS 'When it started.';
COMMENT ON COLUMN analytics.sync_log.completed_at IS 'When it ended; null while running (or when its process died).';
COMMENT ON COLUMN analytics.sync_log.duration_ms IS 'completed_at - started_at, in milliseconds; null while running.';
COMMENT ON COLUMN analytics.sync_log.triggered_by IS 'What started it, e.g. cli, schedule, dagster, demo, or the sensor or job that ran it.';

-- One row per change of an order's cross-channel status, channel state or sync status: old and new
-- value, when, what caused it (an import, an outbound write, a CLI command) and who (a Dagster run, a
-- person). Rows caused by 'backfill: ...' were rebuilt from what was known when the history began.
CREATE OR REPLACE VIEW analytics.order_status_history WITH (security_barrier) AS
SELECT h.history_id, h.order_id, s.code AS store, o.channel, o.order_number, o.shipment_number, h.field,
       h.old_value, h.new_value, h.changed_at, h.cause, h.actor
FROM core.order_status_history h
JOIN core.orders o USING (order_id)
JOIN core.visible_stores s ON s.store_id = h.store_id;

COMMENT ON VIEW analytics.order_status_history IS
    'One row per change of an order''s cross-channel status, channel state or sync status: old and new value, when, what caused it and who. Rows caused by ''backfill: ...'' were rebuilt from what was known when the history began.';
COMMENT ON COLUMN analytics.order_status_history.history_id IS 'Warehouse key of the change; increases with time.';
COMMENT ON COLUMN analytics.order_status_history.order_id IS 'The order (core.orders).';
COMMENT ON COLUMN analytics.order_status_history.store IS 'The store''s code (core.visible_stores.code).';
COMMENT ON COLUMN analytics.order_status_history.channel IS 'The channel of the order.';
COMMENT ON COLUMN analytics.order_status_history.order_number IS 'The order number people see.';
COMMENT ON COLUMN analytics.order_status_history.shipment_number IS 'Letzshop''s shipment number; null on other channels.';
COMMENT ON COLUMN analytics.order_status_history.field IS 'Which column changed: status, channel_state or sync_status.';
COMMENT ON COLUMN analytics.order_status_history.old_value IS 'The value before; null for the order''s first value.';
COMMENT ON COLUMN analytics.order_status_history.new_value IS 'The value after.';
COMMENT ON COLUMN analytics.order_status_history.changed_at IS 'When the change was made.';
COMMENT ON COLUMN analytics.order_status_history.cause IS 'What caused it, e.g. import of letzshop orders (run 1a2b3c4d), confirmation queued, outbound write 42 (confirm), created, changed.';
COMMENT ON COLUMN analytics.order_status_history.actor IS 'Who, where known, e.g. cli alice: marketsync orders confirm, dagster run 1a2b3c4d (job).';
