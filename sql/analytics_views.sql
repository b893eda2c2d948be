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

CREATE OR REPLACE VIEW analytics.order_exceptions WITH (security_barrier) AS
SELECT e.exception_id, s.code AS store, o.channel, o.order_number, e.order_item_id, e.kind, e.status,
       e.gtin14, e.barcode, e.sku, e.resolved_product_id, e.resolution, e.resolved_at, e.created_at
FROM ops.order_exceptions e
JOIN core.visible_stores s USING (store_id)
JOIN core.orders o USING (order_id);

CREATE OR REPLACE VIEW analytics.sync_log WITH (security_barrier) AS
SELECT l.sync_id, s.code AS store, a.channel, l.operation, l.direction, l.records_processed,
       l.records_succeeded, l.records_failed, jsonb_array_length(l.errors) AS error_count,
       l.started_at, l.completed_at, l.duration_ms, l.triggered_by
FROM ops.sync_log l
LEFT JOIN ops.accounts a USING (account_id)
LEFT JOIN core.visible_stores s ON s.store_id = a.store_id
-- An operation of no account (of no store) only for those who read every store.
WHERE s.store_id IS NOT NULL OR (l.account_id IS NULL AND (SELECT core.sees_every_store(current_user)));

-- One row per change of an order's cross-channel status, channel state or sync status: old and new
-- value, when, what caused it (an import, an outbound write, a CLI command) and who (a Dagster run, a
-- person). Rows caused by 'backfill: ...' were rebuilt from what was known when the history began.
CREATE OR REPLACE VIEW analytics.order_status_history WITH (security_barrier) AS
SELECT h.history_id, h.order_id, s.code AS store, o.channel, o.order_number, o.shipment_number, h.field,
       h.old_value, h.new_value, h.changed_at, h.cause, h.actor
FROM core.order_status_history h
JOIN core.orders o USING (order_id)
JOIN core.visible_stores s ON s.store_id = h.store_id;
