-- The questions analysts ask, answered by views (issue 21): sales per day, fulfilment lead times, the
-- exception backlog, stock cover per listing, feed import health and sync freshness. Like every analytics
-- view (sql/analytics_views.sql): they run with their owner's rights, keep to the stores the current user
-- reads by joining core.visible_stores, are security barriers, and select no personal data (no buyer
-- names, e-mails, addresses or tracking numbers). Re-applied after every upgrade (resources/migrations.py).
--
-- Shared rules:
--   order day    the UTC calendar day of the order's ordered_at, else of its imported_at when the channel
--                gave no order time (stores have no time zone of their own). Indexed (migration 0023).
--   ages, hours  durations are exact seconds as double precision divided by 3600 (hours) or 60 (minutes),
--                rounded to 2 decimals at the end; percentiles are percentile_cont (linear interpolation).
--   cancelled    an order the channel cancelled or declined (core.orders.status 'cancelled',
--                core.order_status_map) or that we rejected (sync_status 'rejected'); a unit declined or
--                cancelled on its own (order_items.channel_state confirmed_unavailable, declined,
--                cancelled, canceled) in an order that is not cancelled or refunded as a whole.
--   refunded     an order refunded in full (status 'refunded'); a returned unit (channel_state returned)
--                of an order that is not cancelled or refunded as a whole. Partial refunds
--                (status 'partially_refunded') do not say how much: they are counted, not subtracted.
--
-- The views are dropped and made again on every upgrade, so that their columns may change (CREATE OR
-- REPLACE cannot drop or rename one). Nothing may depend on them (no CASCADE: a view of someone else's on
-- one of them stops the upgrade rather than vanish); migration 0023's downgrade drops them too.
DROP VIEW IF EXISTS analytics.sales_daily, analytics.order_lead_times, analytics.fulfilment_lead_times,
    analytics.exception_backlog, analytics.stock_cover, analytics.feed_import_health, analytics.sync_freshness;

-- ------------------------------------------------------------------------------------------ sales_daily
CREATE VIEW analytics.sales_daily WITH (security_barrier) AS
SELECT (coalesce(o.ordered_at, o.imported_at) AT TIME ZONE 'UTC')::date AS day,
       s.code AS store, o.channel, o.currency,
       count(*) AS orders,
       count(*) FILTER (WHERE x.whole = 'cancelled') AS cancelled_orders,
       count(*) FILTER (WHERE x.whole = 'refunded') AS refunded_orders,
       count(*) FILTER (WHERE x.whole IS NULL AND o.status = 'partially_refunded') AS partially_refunded_orders,
       coalesce(sum(i.units), 0)::bigint AS units,
       coalesce(sum(CASE WHEN x.whole IS NULL THEN i.units - i.cancelled_units - i.returned_units END), 0)::bigint
           AS net_units,
       sum(x.amount) AS gross_revenue,
       sum(CASE WHEN x.whole = 'cancelled' THEN x.amount WHEN x.whole IS NULL THEN i.cancelled_amount ELSE 0 END)
           AS cancelled_amount,
       sum(CASE WHEN x.whole = 'refunded' THEN x.amount WHEN x.whole IS NULL THEN i.returned_amount ELSE 0 END)
           AS refunded_amount,
       sum(CASE WHEN x.whole IS NULL THEN x.amount - i.cancelled_amount - i.returned_amount ELSE 0 END)
           AS net_revenue
FROM core.orders o
JOIN core.visible_stores s USING (store_id)
CROSS JOIN LATERAL (
    SELECT coalesce(sum(it.quantity), 0) AS units,
           coalesce(sum(it.quantity) FILTER (WHERE it.channel_state IN
               ('confirmed_unavailable', 'declined', 'cancelled', 'canceled')), 0) AS cancelled_units,
           coalesce(sum(it.quantity) FILTER (WHERE it.channel_state = 'returned'), 0) AS returned_units,
           coalesce(sum(coalesce(it.unit_price, 0) * it.quantity) FILTER (WHERE it.channel_state IN
               ('confirmed_unavailable', 'declined', 'cancelled', 'canceled')), 0) AS cancelled_amount,
           coalesce(sum(coalesce(it.unit_price, 0) * it.quantity) FILTER (WHERE it.channel_state = 'returned'), 0)
               AS returned_amount,
           sum(it.unit_price * it.quantity) AS lines
    FROM core.order_items it WHERE it.order_id = o.order_id) i
CROSS JOIN LATERAL (
    SELECT coalesce(o.total, i.lines, 0) AS amount,
           CASE WHEN o.status = 'refunded' THEN 'refunded'
                WHEN o.status = 'cancelled' OR o.sync_status = 'rejected' THEN 'cancelled' END AS whole) x
GROUP BY 1, 2, 3, 4;

COMMENT ON VIEW analytics.sales_daily IS
    'Grain: one row per order day (UTC), store, channel and currency. What was ordered that day and what remains of it after cancellations and refunds, in the order currency (never summed across currencies). An order''s amount is its total as the channel states it (Letzshop: the items; Amazon, eBay, the storefront: with shipping and tax), else the sum of its lines. Cancelled: the whole order when core.orders.status is cancelled (the channel cancelled or declined it, core.order_status_map) or sync_status is rejected (we rejected it); else its units declined or cancelled one by one (order_items.channel_state confirmed_unavailable, declined, cancelled, canceled) at unit price x quantity. Refunded: the whole order when status is refunded; else its returned units (channel_state returned). A partial refund (status partially_refunded) states no amount: counted in partially_refunded_orders, not subtracted. Cancellations and refunds count on the day the order was placed, so a past day can still change.';
COMMENT ON COLUMN analytics.sales_daily.day IS
    'Order day: the UTC date of ordered_at, else of imported_at when the channel gave no order time.';
COMMENT ON COLUMN analytics.sales_daily.store IS 'Store code (ops.stores.code).';
COMMENT ON COLUMN analytics.sales_daily.channel IS 'Sales channel of the orders (letzshop, amazon, ebay, storefront, ...).';
COMMENT ON COLUMN analytics.sales_daily.currency IS 'ISO 4217 currency of the orders; every amount of the row is in it.';
COMMENT ON COLUMN analytics.sales_daily.orders IS 'Orders placed that day (every status), count.';
COMMENT ON COLUMN analytics.sales_daily.cancelled_orders IS
    'Orders cancelled as a whole (status cancelled, or sync_status rejected), count.';
COMMENT ON COLUMN analytics.sales_daily.refunded_orders IS 'Orders refunded in full (status refunded), count.';
COMMENT ON COLUMN analytics.sales_daily.partially_refunded_orders IS
    'Orders refunded in part (status partially_refunded), count; their refunded amount is unknown and not subtracted.';
COMMENT ON COLUMN analytics.sales_daily.units IS 'Units ordered (sum of order_items.quantity), every status.';
COMMENT ON COLUMN analytics.sales_daily.net_units IS
    'Units neither cancelled nor refunded: units of orders not cancelled or refunded as a whole, less their declined, cancelled and returned units.';
COMMENT ON COLUMN analytics.sales_daily.gross_revenue IS
    'Sum of the orders'' amounts (total, else the sum of the lines), every status, in currency.';
COMMENT ON COLUMN analytics.sales_daily.cancelled_amount IS
    'Amount of the orders cancelled as a whole plus the declined or cancelled units (unit price x quantity) of the others, in currency.';
COMMENT ON COLUMN analytics.sales_daily.refunded_amount IS
    'Amount of the orders refunded in full plus the returned units (unit price x quantity) of the others, in currency. Partial refunds are not included (their amount is unknown).';
COMMENT ON COLUMN analytics.sales_daily.net_revenue IS
    'gross_revenue - cancelled_amount - refunded_amount, in currency.';

-- ------------------------------------------------------------------------------------ order_lead_times
-- The three steps of one order, for any window an analyst wants; fulfilment_lead_times summarises it.
CREATE VIEW analytics.order_lead_times WITH (security_barrier) AS
SELECT o.order_id, s.code AS store, o.channel, o.order_number,
       (coalesce(o.ordered_at, o.imported_at) AT TIME ZONE 'UTC')::date AS day,
       o.ordered_at, c.confirmed_at, t.shipped_at,
       round((extract(epoch FROM c.confirmed_at - o.ordered_at)::float8 / 3600)::numeric, 2) AS ordered_to_confirmed_hours,
       round((extract(epoch FROM t.shipped_at - c.confirmed_at)::float8 / 3600)::numeric, 2) AS confirmed_to_shipped_hours,
       round((extract(epoch FROM t.shipped_at - o.ordered_at)::float8 / 3600)::numeric, 2) AS ordered_to_shipped_hours
FROM core.orders o
JOIN core.visible_stores s USING (store_id)
CROSS JOIN LATERAL (SELECT CASE WHEN o.sync_status = 'shipped' THEN o.shipped_at END AS shipped_at) t
LEFT JOIN LATERAL (
    SELECT min(h.changed_at) AS confirmed_at FROM core.order_status_history h
    WHERE h.order_id = o.order_id AND h.field = 'sync_status' AND h.new_value = 'confirmed') c ON true;

COMMENT ON VIEW analytics.order_lead_times IS
    'Grain: one row per order. When it was ordered, confirmed and shipped, and the hours between. Confirmed: the first time its sync status became confirmed (core.order_status_history, field sync_status: our confirmation written to the channel, or the channel reporting it confirmed when we imported it). Shipped: core.orders.shipped_at of a shipped order (sync_status shipped). A missing step (never confirmed, e.g. imported already shipped; not shipped yet; no order time) leaves the hours that need it NULL; ordered -> shipped is still measured without a confirmation.';
COMMENT ON COLUMN analytics.order_lead_times.order_id IS 'The order (core.orders.order_id).';
COMMENT ON COLUMN analytics.order_lead_times.store IS 'Store code (ops.stores.code).';
COMMENT ON COLUMN analytics.order_lead_times.channel IS 'Sales channel of the order.';
COMMENT ON COLUMN analytics.order_lead_times.order_number IS 'The channel''s order number (not personal data).';
COMMENT ON COLUMN analytics.order_lead_times.day IS
    'Order day: the UTC date of ordered_at, else of imported_at when the channel gave no order time.';
COMMENT ON COLUMN analytics.order_lead_times.ordered_at IS 'When the buyer placed the order, as the channel says (NULL: not given).';
COMMENT ON COLUMN analytics.order_lead_times.confirmed_at IS
    'First change of the order''s sync status to confirmed (core.order_status_history); NULL: never confirmed.';
COMMENT ON COLUMN analytics.order_lead_times.shipped_at IS 'When the order shipped (core.orders.shipped_at of a shipped order); NULL: not shipped.';
COMMENT ON COLUMN analytics.order_lead_times.ordered_to_confirmed_hours IS 'confirmed_at - ordered_at in hours (2 decimals); NULL when either is missing.';
COMMENT ON COLUMN analytics.order_lead_times.confirmed_to_shipped_hours IS 'shipped_at - confirmed_at in hours (2 decimals); NULL when either is missing.';
COMMENT ON COLUMN analytics.order_lead_times.ordered_to_shipped_hours IS 'shipped_at - ordered_at in hours (2 decimals); NULL when either is missing.';

-- ------------------------------------------------------------------------------- fulfilment_lead_times
CREATE VIEW analytics.fulfilment_lead_times WITH (security_barrier) AS
SELECT date_trunc('month', l.day::timestamp)::date AS month, l.store, l.channel,
       count(*) AS orders,
       count(l.oc) AS confirmed_orders,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY l.oc)::numeric, 2) AS ordered_to_confirmed_p50_hours,
       round(percentile_cont(0.9) WITHIN GROUP (ORDER BY l.oc)::numeric, 2) AS ordered_to_confirmed_p90_hours,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY l.oc)::numeric, 2) AS ordered_to_confirmed_p95_hours,
       round(max(l.oc)::numeric, 2) AS ordered_to_confirmed_max_hours,
       count(l.cs) AS confirmed_shipped_orders,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY l.cs)::numeric, 2) AS confirmed_to_shipped_p50_hours,
       round(percentile_cont(0.9) WITHIN GROUP (ORDER BY l.cs)::numeric, 2) AS confirmed_to_shipped_p90_hours,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY l.cs)::numeric, 2) AS confirmed_to_shipped_p95_hours,
       round(max(l.cs)::numeric, 2) AS confirmed_to_shipped_max_hours,
       count(l.os) AS shipped_orders,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY l.os)::numeric, 2) AS ordered_to_shipped_p50_hours,
       round(percentile_cont(0.9) WITHIN GROUP (ORDER BY l.os)::numeric, 2) AS ordered_to_shipped_p90_hours,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY l.os)::numeric, 2) AS ordered_to_shipped_p95_hours,
       round(max(l.os)::numeric, 2) AS ordered_to_shipped_max_hours
-- The same steps as analytics.order_lead_times, not read through it: a filter on the month (date_trunc is
-- not leakproof) would stop at that view's security barrier and every order of the store be measured first.
FROM (SELECT (coalesce(o.ordered_at, o.imported_at) AT TIME ZONE 'UTC')::date AS day, s.code AS store, o.channel,
             extract(epoch FROM c.confirmed_at - o.ordered_at)::float8 / 3600 AS oc,
             extract(epoch FROM t.shipped_at - c.confirmed_at)::float8 / 3600 AS cs,
             extract(epoch FROM t.shipped_at - o.ordered_at)::float8 / 3600 AS os
      FROM core.orders o
      JOIN core.visible_stores s USING (store_id)
      CROSS JOIN LATERAL (SELECT CASE WHEN o.sync_status = 'shipped' THEN o.shipped_at END AS shipped_at) t
      LEFT JOIN LATERAL (
          SELECT min(h.changed_at) AS confirmed_at FROM core.order_status_history h
          WHERE h.order_id = o.order_id AND h.field = 'sync_status' AND h.new_value = 'confirmed') c ON true) l
GROUP BY 1, 2, 3;

COMMENT ON VIEW analytics.fulfilment_lead_times IS
    'Grain: one row per month of order day (UTC), store and channel. How long orders took from ordered to confirmed, confirmed to shipped and ordered to shipped: count, percentiles (percentile_cont: linear interpolation, as numpy''s default) and maximum, in hours, over the orders that have both ends of the step (analytics.order_lead_times, which says what confirmed and shipped mean). A missing step leaves the order out of that step only: an order never confirmed (e.g. imported already shipped) counts in ordered -> shipped, not in the two steps through confirmation; an order not shipped yet in neither shipped step. A step with no order gives NULL percentiles.';
COMMENT ON COLUMN analytics.fulfilment_lead_times.month IS 'First day of the month of the orders'' order day (UTC).';
COMMENT ON COLUMN analytics.fulfilment_lead_times.store IS 'Store code (ops.stores.code).';
COMMENT ON COLUMN analytics.fulfilment_lead_times.channel IS 'Sales channel of the orders.';
COMMENT ON COLUMN analytics.fulfilment_lead_times.orders IS 'Orders placed that month, count (every status).';
COMMENT ON COLUMN analytics.fulfilment_lead_times.confirmed_orders IS 'Orders with an order time and a confirmation: the orders measured in ordered -> confirmed.';
COMMENT ON COLUMN analytics.fulfilment_lead_times.ordered_to_confirmed_p50_hours IS 'Median hours from ordered to confirmed (2 decimals).';
COMMENT ON COLUMN analytics.fulfilment_lead_times.ordered_to_confirmed_p90_hours IS '90th percentile of the hours from ordered to confirmed.';
COMMENT ON COLUMN analytics.fulfilment_lead_times.ordered_to_confirmed_p95_hours IS '95th percentile of the hours from ordered to confirmed.';
COMMENT ON COLUMN analytics.fulfilment_lead_times.ordered_to_confirmed_max_hours IS 'Longest time from ordered to confirmed, hours.';
COMMENT ON COLUMN analytics.fulfilment_lead_times.confirmed_shipped_orders IS 'Orders confirmed and shipped: the orders measured in confirmed -> shipped.';
COMMENT ON COLUMN analytics.fulfilment_lead_times.confirmed_to_shipped_p50_hours IS 'Median hours from confirmed to shipped (2 decimals).';
COMMENT ON COLUMN analytics.fulfilment_lead_times.confirmed_to_shipped_p90_hours IS '90th percentile of the hours from confirmed to shipped.';
COMMENT ON COLUMN analytics.fulfilment_lead_times.confirmed_to_shipped_p95_hours IS '95th percentile of the hours from confirmed to shipped.';
COMMENT ON COLUMN analytics.fulfilment_lead_times.confirmed_to_shipped_max_hours IS 'Longest time from confirmed to shipped, hours.';
COMMENT ON COLUMN analytics.fulfilment_lead_times.shipped_orders IS 'Orders with an order time that shipped: the orders measured in ordered -> shipped.';
COMMENT ON COLUMN analytics.fulfilment_lead_times.ordered_to_shipped_p50_hours IS 'Median hours from ordered to shipped (2 decimals).';
COMMENT ON COLUMN analytics.fulfilment_lead_times.ordered_to_shipped_p90_hours IS '90th percentile of the hours from ordered to shipped.';
COMMENT ON COLUMN analytics.fulfilment_lead_times.ordered_to_shipped_p95_hours IS '95th percentile of the hours from ordered to shipped.';
COMMENT ON COLUMN analytics.fulfilment_lead_times.ordered_to_shipped_max_hours IS 'Longest time from ordered to shipped, hours.';

-- ----------------------------------------------------------------------------------- exception_backlog
CREATE VIEW analytics.exception_backlog WITH (security_barrier) AS
SELECT s.code AS store, o.channel, e.kind,
       count(*) AS open_exceptions,
       count(*) FILTER (WHERE e.status = 'pending') AS pending,
       count(*) FILTER (WHERE e.status = 'ignored') AS ignored,
       count(DISTINCT e.order_id) AS orders_held,
       min(e.created_at) AS oldest_created_at,
       round((extract(epoch FROM now() - min(e.created_at))::float8 / 3600)::numeric, 2) AS oldest_age_hours,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM now() - e.created_at)::float8 / 3600)::numeric, 2)
           AS median_age_hours,
       count(*) FILTER (WHERE e.created_at > now() - interval '24 hours') AS age_under_1d,
       count(*) FILTER (WHERE e.created_at <= now() - interval '24 hours'
                          AND e.created_at > now() - interval '72 hours') AS age_1d_to_3d,
       count(*) FILTER (WHERE e.created_at <= now() - interval '72 hours'
                          AND e.created_at > now() - interval '168 hours') AS age_3d_to_7d,
       count(*) FILTER (WHERE e.created_at <= now() - interval '168 hours') AS age_over_7d
FROM ops.order_exceptions e
JOIN core.visible_stores s USING (store_id)
JOIN core.orders o USING (order_id)
WHERE e.status IN ('pending', 'ignored')
GROUP BY 1, 2, 3;

COMMENT ON VIEW analytics.exception_backlog IS
    'Grain: one row per store, channel and exception kind with at least one open exception, measured at query time. Open: pending (waiting for someone) or ignored (set aside with a reason, the line still has no product): both keep the order from being confirmed (assets/catalog/exceptions.py BLOCKING_STATUSES); resolved ones are gone. Ages run from the exception''s created_at to now; a day is 24 hours.';
COMMENT ON COLUMN analytics.exception_backlog.store IS 'Store code (ops.stores.code).';
COMMENT ON COLUMN analytics.exception_backlog.channel IS 'Sales channel of the orders the exceptions hold.';
COMMENT ON COLUMN analytics.exception_backlog.kind IS 'Exception kind: product_not_found, gtin_mismatch or duplicate_gtin.';
COMMENT ON COLUMN analytics.exception_backlog.open_exceptions IS 'Open exceptions (pending + ignored), count.';
COMMENT ON COLUMN analytics.exception_backlog.pending IS 'Open exceptions waiting for someone (status pending), count.';
COMMENT ON COLUMN analytics.exception_backlog.ignored IS 'Open exceptions set aside (status ignored), count.';
COMMENT ON COLUMN analytics.exception_backlog.orders_held IS 'Distinct orders with an open exception of this kind, count.';
COMMENT ON COLUMN analytics.exception_backlog.oldest_created_at IS 'When the oldest open exception was raised.';
COMMENT ON COLUMN analytics.exception_backlog.oldest_age_hours IS 'Age of the oldest open exception, hours (2 decimals).';
COMMENT ON COLUMN analytics.exception_backlog.median_age_hours IS 'Median age of the open exceptions (percentile_cont 0.5), hours (2 decimals).';
COMMENT ON COLUMN analytics.exception_backlog.age_under_1d IS 'Open exceptions younger than 24 hours, count.';
COMMENT ON COLUMN analytics.exception_backlog.age_1d_to_3d IS 'Open exceptions 24 hours old or more and younger than 72 hours, count.';
COMMENT ON COLUMN analytics.exception_backlog.age_3d_to_7d IS 'Open exceptions 72 hours old or more and younger than 168 hours (7 days), count.';
COMMENT ON COLUMN analytics.exception_backlog.age_over_7d IS 'Open exceptions 168 hours (7 days) old or more, count.';

-- ----------------------------------------------------------------------------------------- stock_cover
CREATE VIEW analytics.stock_cover WITH (security_barrier) AS
-- Units sold per store code, account and product over the 28 days. Not materialised: each use is planned in
-- place, so a query's filter on the store reaches into it (the planner derives sold.store = 'x' from
-- s.code = 'x') and only that store's orders of the 28 days are read.
WITH sold AS NOT MATERIALIZED (
    SELECT vs.code AS store, o.account_id, i.product_id, sum(i.quantity) AS units
    FROM core.orders o
    JOIN core.visible_stores vs ON vs.store_id = o.store_id
    JOIN core.order_items i ON i.order_id = o.order_id
    WHERE (coalesce(o.ordered_at, o.imported_at) AT TIME ZONE 'UTC')::date
              BETWEEN (now() AT TIME ZONE 'UTC')::date - 28 AND (now() AT TIME ZONE 'UTC')::date - 1
      AND i.product_id IS NOT NULL
      AND o.status IS DISTINCT FROM 'cancelled' AND o.status IS DISTINCT FROM 'refunded'
      AND o.sync_status <> 'rejected'
      AND i.channel_state NOT IN ('confirmed_unavailable', 'declined', 'cancelled', 'canceled', 'returned',
                                  'FULFILLED_BY_AMAZON')
    GROUP BY vs.code, o.account_id, i.product_id)
SELECT s.code AS store, a.channel, p.sku, c.product_id,
       c.acknowledged_quantity AS available_units, c.acknowledged_at,
       coalesce(sold.units, 0) AS units_sold_28d,
       round(coalesce(sold.units, 0) / 28.0, 2) AS avg_daily_units,
       CASE WHEN sold.units > 0 THEN round(c.acknowledged_quantity * 28.0 / sold.units, 1) END AS days_of_cover,
       coalesce(store_sold.units, 0) AS store_units_sold_28d,
       CASE WHEN store_sold.units > 0 THEN round(c.acknowledged_quantity * 28.0 / store_sold.units, 1) END
           AS store_days_of_cover,
       c.acknowledged_quantity <= 0 AS out_of_stock,
       out.since AS out_of_stock_since,
       round((extract(epoch FROM now() - out.since)::float8 / 86400)::numeric, 2) AS days_out_of_stock
FROM core.channel_stock c
JOIN ops.accounts a ON a.account_id = c.account_id
JOIN core.visible_stores s ON s.store_id = a.store_id
JOIN core.products p ON p.product_id = c.product_id
LEFT JOIN sold ON sold.store = s.code AND sold.account_id = c.account_id AND sold.product_id = c.product_id
-- The product's sales on every channel of the store: they all sell from the same stock.
LEFT JOIN (SELECT store, product_id, sum(units)::bigint AS units FROM sold GROUP BY store, product_id) store_sold
       ON store_sold.store = s.code AND store_sold.product_id = c.product_id
-- Out of stock since: the first zero the channel took after the last positive number it took.
LEFT JOIN LATERAL (
    SELECT min(coalesce(z.answered_at, z.computed_at)) AS since
    FROM core.stock_ledger z
    WHERE c.acknowledged_quantity <= 0
      AND z.product_id = c.product_id AND z.account_id = c.account_id
      AND z.answer IN ('accepted', 'delivered') AND z.pushed_quantity = 0
      AND z.ledger_id > coalesce((SELECT max(q.ledger_id) FROM core.stock_ledger q
                                  WHERE q.product_id = c.product_id AND q.account_id = c.account_id
                                    AND q.answer IN ('accepted', 'delivered') AND q.pushed_quantity > 0), 0)) out ON true;

COMMENT ON VIEW analytics.stock_cover IS
    'Grain: one row per listing: a product of a store on one channel account whose number the channel acknowledged (core.channel_stock), measured at query time. Available units are what the channel last acknowledged it may sell. Units sold: the units of the listing''s orders on that channel whose order day (UTC) is one of the 28 complete days before today, less cancelled or refunded orders (status cancelled or refunded, sync_status rejected) and declined, cancelled or returned units; units Amazon ships from its own warehouse (FULFILLED_BY_AMAZON) draw no stock of ours and are left out. Days of cover = available units / average daily units sold, NULL when nothing sold. Every channel sells from the same stock, so store_days_of_cover divides by the product''s sales on all the store''s channels. Out of stock since: from core.stock_ledger, the first zero the channel took (answer accepted or delivered) after the last positive number it took; NULL when the ledger does not show it (e.g. a zero read back from the channel).';
COMMENT ON COLUMN analytics.stock_cover.store IS 'Store code (ops.stores.code).';
COMMENT ON COLUMN analytics.stock_cover.channel IS 'Channel of the listing''s account.';
COMMENT ON COLUMN analytics.stock_cover.sku IS 'The store''s SKU of the product.';
COMMENT ON COLUMN analytics.stock_cover.product_id IS 'The product (core.products.product_id).';
COMMENT ON COLUMN analytics.stock_cover.available_units IS 'Units the channel last acknowledged it may sell (core.channel_stock.acknowledged_quantity).';
COMMENT ON COLUMN analytics.stock_cover.acknowledged_at IS 'When the channel acknowledged that number.';
COMMENT ON COLUMN analytics.stock_cover.units_sold_28d IS 'Units of the listing sold on this channel on the 28 complete UTC days before today (cancelled, refunded, declined, returned and Amazon-fulfilled units left out).';
COMMENT ON COLUMN analytics.stock_cover.avg_daily_units IS 'units_sold_28d / 28, units per day (2 decimals).';
COMMENT ON COLUMN analytics.stock_cover.days_of_cover IS 'available_units / avg_daily_units, days (1 decimal); NULL when nothing sold.';
COMMENT ON COLUMN analytics.stock_cover.store_units_sold_28d IS 'Units of the product sold on every channel of the store in the same 28 days (same rules).';
COMMENT ON COLUMN analytics.stock_cover.store_days_of_cover IS 'available_units / (store_units_sold_28d / 28), days (1 decimal): the cover when every channel draws from the same stock; NULL when nothing sold.';
COMMENT ON COLUMN analytics.stock_cover.out_of_stock IS 'True when the channel holds no unit for sale (available_units <= 0).';
COMMENT ON COLUMN analytics.stock_cover.out_of_stock_since IS 'When the channel took the zero that took the listing out of stock (core.stock_ledger); NULL when in stock or not shown by the ledger.';
COMMENT ON COLUMN analytics.stock_cover.days_out_of_stock IS 'Days since out_of_stock_since (2 decimals); NULL when it is NULL.';

-- ---------------------------------------------------------------------------------- feed_import_health
CREATE VIEW analytics.feed_import_health WITH (security_barrier) AS
SELECT s.code AS store, c.name AS source, c.kind, c.enabled,
       last.started_at AS last_run_at, last.status AS last_run_status,
       ok.finished_at AS last_success_at,
       round((extract(epoch FROM now() - ok.finished_at)::float8 / 3600)::numeric, 2) AS last_success_age_hours,
       week.runs AS runs_7d, week.failed AS failed_runs_7d,
       fin.started_at AS last_finished_run_at, fin.status AS last_finished_status,
       fin.rows_read, fin.rows_loaded, fin.rows_unchanged, fin.rows_quarantined, fin.rows_skipped,
       round(fin.rows_quarantined::numeric / nullif(fin.rows_read, 0), 4) AS quarantine_share
FROM ops.catalog_sources c
JOIN core.visible_stores s ON s.store_id = c.store_id
LEFT JOIN LATERAL (SELECT r.started_at, r.status FROM ops.import_runs r WHERE r.source_id = c.source_id
                   ORDER BY r.started_at DESC, r.import_run_id DESC LIMIT 1) last ON true
LEFT JOIN LATERAL (SELECT r.finished_at FROM ops.import_runs r
                   WHERE r.source_id = c.source_id AND r.status IN ('completed', 'partially_completed')
                   ORDER BY r.started_at DESC, r.import_run_id DESC LIMIT 1) ok ON true
LEFT JOIN LATERAL (SELECT r.started_at, r.status, r.rows_read, r.rows_loaded, r.rows_unchanged, r.rows_quarantined,
                          r.rows_skipped
                   FROM ops.import_runs r WHERE r.source_id = c.source_id AND r.finished_at IS NOT NULL
                   ORDER BY r.started_at DESC, r.import_run_id DESC LIMIT 1) fin ON true
CROSS JOIN LATERAL (SELECT count(*) AS runs, count(*) FILTER (WHERE r.status = 'failed') AS failed
                    FROM ops.import_runs r
                    WHERE r.source_id = c.source_id AND r.started_at > now() - interval '168 hours') week;

COMMENT ON VIEW analytics.feed_import_health IS
    'Grain: one row per catalog source (ops.catalog_sources: Letzshop product feed, CodesWholesale, pulled supplier feed, push feed), measured at query time. Its import runs (ops.import_runs): the last one started, the last successful one (completed or partially_completed, i.e. applied, with at most max_bad_share of its rows quarantined), the runs of the last 7 days (168 hours), and the row counts of the last finished run (a run still going has partial counts, so it is not used). Push feeds apply batches (ops.feed_inbox), not import runs: they show no runs. Rows a mapping''s skip and group rules pass over are rows_skipped, beside rows_read.';
COMMENT ON COLUMN analytics.feed_import_health.store IS 'Store code (ops.stores.code).';
COMMENT ON COLUMN analytics.feed_import_health.source IS 'Name of the catalog source within its store.';
COMMENT ON COLUMN analytics.feed_import_health.kind IS 'Kind of source: letzshop_feed, codeswholesale, pull_feed or push_feed.';
COMMENT ON COLUMN analytics.feed_import_health.enabled IS 'Whether the source is imported at all.';
COMMENT ON COLUMN analytics.feed_import_health.last_run_at IS 'When the last import run started; NULL: never run.';
COMMENT ON COLUMN analytics.feed_import_health.last_run_status IS 'Status of the last run: pending, downloading, parsing, upserting (still going), completed, partially_completed or failed.';
COMMENT ON COLUMN analytics.feed_import_health.last_success_at IS 'When the last successful run (completed or partially_completed) finished; NULL: none.';
COMMENT ON COLUMN analytics.feed_import_health.last_success_age_hours IS 'Hours since last_success_at (2 decimals).';
COMMENT ON COLUMN analytics.feed_import_health.runs_7d IS 'Runs started in the last 168 hours, count.';
COMMENT ON COLUMN analytics.feed_import_health.failed_runs_7d IS 'Runs started in the last 168 hours that failed (applied nothing), count.';
COMMENT ON COLUMN analytics.feed_import_health.last_finished_run_at IS 'When the last finished run (any outcome) started: the run the row counts are of.';
COMMENT ON COLUMN analytics.feed_import_health.last_finished_status IS 'Outcome of that run: completed, partially_completed or failed.';
COMMENT ON COLUMN analytics.feed_import_health.rows_read IS 'Rows that run read (= loaded + unchanged + quarantined once completed).';
COMMENT ON COLUMN analytics.feed_import_health.rows_loaded IS 'Rows that run inserted or changed in the catalog.';
COMMENT ON COLUMN analytics.feed_import_health.rows_unchanged IS 'Rows that run found as they already were.';
COMMENT ON COLUMN analytics.feed_import_health.rows_quarantined IS 'Rows that run set aside as bad (ops.quarantine).';
COMMENT ON COLUMN analytics.feed_import_health.rows_skipped IS 'Rows of that run''s file that are no product of their own (passed over by the mapping''s skip rules, or a grouped feed''s rows folded into their group''s product): not part of rows_read.';
COMMENT ON COLUMN analytics.feed_import_health.quarantine_share IS 'rows_quarantined / rows_read of that run, a fraction 0..1 (4 decimals), comparable with the source''s max_bad_share; NULL when it read no row.';

-- -------------------------------------------------------------------------------------- sync_freshness
CREATE VIEW analytics.sync_freshness WITH (security_barrier) AS
SELECT s.code AS store, a.channel, a.enabled, a.sync_interval_minutes, l.operation, l.direction,
       l.last_attempt_at, l.last_success_at,
       round((extract(epoch FROM now() - l.last_attempt_at)::float8 / 60)::numeric, 2) AS minutes_since_attempt,
       round((extract(epoch FROM now() - l.last_success_at)::float8 / 60)::numeric, 2) AS minutes_since_success,
       coalesce(l.failures_since_success, 0) AS failures_since_success,
       coalesce(l.unfinished_since_success, 0) AS unfinished_since_success
FROM ops.accounts a
JOIN core.visible_stores s ON s.store_id = a.store_id
LEFT JOIN LATERAL (
    SELECT g.operation, g.direction, max(g.started_at) AS last_attempt_at,
           max(g.completed_at) FILTER (WHERE g.ok) AS last_success_at,
           count(*) FILTER (WHERE g.failed AND g.started_at > coalesce(g.last_ok_started_at, '-infinity'))
               AS failures_since_success,
           count(*) FILTER (WHERE NOT g.failed AND g.completed_at IS NULL
                              AND g.started_at > coalesce(g.last_ok_started_at, '-infinity')) AS unfinished_since_success
    FROM (SELECT y.operation, y.direction, y.started_at, y.completed_at, y.failed,
                 y.completed_at IS NOT NULL AND NOT y.failed AS ok,
                 max(y.started_at) FILTER (WHERE y.completed_at IS NOT NULL AND NOT y.failed)
                     OVER (PARTITION BY y.operation, y.direction) AS last_ok_started_at
          FROM ops.sync_log y WHERE y.account_id = a.account_id) g
    GROUP BY g.operation, g.direction) l ON true;

COMMENT ON VIEW analytics.sync_freshness IS
    'Grain: one row per channel account and sync operation with its direction (ops.sync_log: import_orders inbound, outbound, stock_push_*, price_push_*, ...), measured at query time; an account with no logged operation has one row with operation NULL. Success: a logged operation that completed (completed_at set) and did not fail (failed false; some of its records may have failed). Failures since the last success count the failed attempts started after the last successful one started (all of them when none succeeded).';
COMMENT ON COLUMN analytics.sync_freshness.store IS 'Store code (ops.stores.code).';
COMMENT ON COLUMN analytics.sync_freshness.channel IS 'Channel of the account (letzshop, amazon, ebay, jtl_ffn, email, webhook, storefront, ...).';
COMMENT ON COLUMN analytics.sync_freshness.enabled IS 'Whether the account is synced at all.';
COMMENT ON COLUMN analytics.sync_freshness.sync_interval_minutes IS 'How often the account''s orders are imported, minutes (the sensors'' schedule).';
COMMENT ON COLUMN analytics.sync_freshness.operation IS 'Logged operation (ops.sync_log.operation); NULL: none logged for the account.';
COMMENT ON COLUMN analytics.sync_freshness.direction IS 'inbound, outbound or internal.';
COMMENT ON COLUMN analytics.sync_freshness.last_attempt_at IS 'When the last attempt of the operation started.';
COMMENT ON COLUMN analytics.sync_freshness.last_success_at IS 'When the last successful attempt completed; NULL: none.';
COMMENT ON COLUMN analytics.sync_freshness.minutes_since_attempt IS 'Minutes since last_attempt_at (2 decimals).';
COMMENT ON COLUMN analytics.sync_freshness.minutes_since_success IS 'Minutes since last_success_at (2 decimals); NULL when none succeeded.';
COMMENT ON COLUMN analytics.sync_freshness.failures_since_success IS 'Failed attempts started after the last successful one started, count.';
COMMENT ON COLUMN analytics.sync_freshness.unfinished_since_success IS 'Attempts started after the last successful one that have not completed nor failed (running, or ended without closing their log row), count.';
