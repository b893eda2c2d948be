-- The analytics benchmark's warehouse: :stores stores with a Letzshop, an Amazon and an eBay account each,
-- :products products per store, and :orders orders spread over the accounts and the last :days days (stored
-- in the order they were placed, as a live warehouse receives them) with ten items each on average (5 to
-- 15). Of the orders 3% are cancelled (we rejected them or the channel
-- did), 2% refunded in full and 1% in part, 3% still pending, 7% confirmed and the rest shipped; 1% of the
-- units were declined one by one and 0.5% returned. Each confirmed or shipped order has its confirmation
-- in the status history (besides the rows the insert trigger writes), except 10% of the shipped ones,
-- which came in shipped. 1% of the orders raised an exception on their first line, a tenth of them still
-- open. Every product is listed on each channel (5% out of stock), with 10 pushes in the stock ledger;
-- three catalog sources per store import hourly for :days days (5% failed); every account logs an order
-- import every 15 minutes and a stock push every 30 (2% failed). Statements run one by one (each ends
-- with ';' at the end of a line).
INSERT INTO ops.stores (code, name)
SELECT format('bench%s', lpad(n::text, 2, '0')), format('Bench store %s', n) FROM generate_series(1, :stores) AS n;

INSERT INTO ops.accounts (store_id, channel, endpoint, created_at, last_synced_at)
SELECT s.store_id, c.channel, 'http://127.0.0.1:9/', now() - make_interval(days => :days + 30), now()
FROM ops.stores s
CROSS JOIN (VALUES ('letzshop'), ('amazon'), ('ebay')) AS c (channel);

CREATE TEMP TABLE bench_accounts AS
SELECT account_id, store_id, channel, row_number() OVER (ORDER BY account_id) - 1 AS idx,
       count(*) OVER () AS total
FROM ops.accounts;

INSERT INTO core.products (store_id, sku, title)
SELECT s.store_id, format('SKU-%s', lpad(k::text, 6, '0')), format('Product %s', k)
FROM ops.stores s CROSS JOIN generate_series(1, :products) AS k;

CREATE TEMP TABLE bench_products AS
SELECT store_id, product_id, row_number() OVER (PARTITION BY store_id ORDER BY product_id) - 1 AS idx
FROM core.products;
CREATE UNIQUE INDEX ON bench_products (store_id, idx);
ANALYZE bench_products;

-- State per channel and kind of order: (cancelled, refunded, partly refunded, pending, confirmed, shipped).
CREATE TEMP TABLE bench_states (channel text, kind text, channel_state text, sync_status text);
INSERT INTO bench_states VALUES
    ('letzshop', 'cancelled', 'declined', 'rejected'), ('amazon', 'cancelled', 'CANCELLED', 'rejected'),
    ('ebay', 'cancelled', 'CANCELED', 'rejected'),
    ('letzshop', 'refunded', 'declined', 'rejected'), ('amazon', 'refunded', 'REFUNDED', 'shipped'),
    ('ebay', 'refunded', 'FULLY_REFUNDED', 'shipped'),
    ('letzshop', 'partly', 'confirmed', 'shipped'), ('amazon', 'partly', 'PARTIALLY_REFUNDED', 'shipped'),
    ('ebay', 'partly', 'PARTIALLY_REFUNDED', 'shipped'),
    ('letzshop', 'pending', 'unconfirmed', 'imported'), ('amazon', 'pending', 'PENDING', 'imported'),
    ('ebay', 'pending', 'PAYMENT_PENDING', 'imported'),
    ('letzshop', 'confirmed', 'confirmed', 'confirmed'), ('amazon', 'confirmed', 'UNSHIPPED', 'confirmed'),
    ('ebay', 'confirmed', 'NOT_STARTED', 'confirmed'),
    ('letzshop', 'shipped', 'confirmed', 'shipped'), ('amazon', 'shipped', 'SHIPPED', 'shipped'),
    ('ebay', 'shipped', 'FULFILLED', 'shipped');

CREATE TEMP TABLE bench_orders AS
SELECT n, a.account_id, a.store_id, a.channel,
       CASE WHEN r < 3 THEN 'cancelled' WHEN r < 5 THEN 'refunded' WHEN r < 6 THEN 'partly'
            WHEN r < 9 THEN 'pending' WHEN r < 16 THEN 'confirmed' ELSE 'shipped' END AS kind,
       now() - make_interval(secs => (n * 7919 % (:days * 1440)) * 60.0 + n % 60) AS ordered_at,
       make_interval(secs => 600 + (n * 37 % 2880) * 60.0) AS to_confirm,
       make_interval(secs => 1800 + (n * 53 % 5760) * 60.0) AS to_ship,
       5 + n % 11 AS items
FROM generate_series(1::bigint, :orders) AS n
CROSS JOIN LATERAL (SELECT n * 31 % 100 AS r) AS roll
JOIN bench_accounts a ON a.idx = n % a.total;

INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id, order_number,
                         total, currency, channel_state, sync_status, ordered_at, imported_at, shipped_at,
                         source_payload_sha, customer_email)
SELECT b.store_id, b.account_id, b.channel, format('O%s', b.n), format('S%s', b.n), format('R%s', b.n),
       b.items * 30 + b.n % 50, CASE WHEN b.channel = 'amazon' AND b.store_id % 2 = 0 THEN 'GBP' ELSE 'EUR' END,
       st.channel_state, st.sync_status, b.ordered_at, b.ordered_at + interval '7 minutes',
       CASE WHEN st.sync_status = 'shipped' THEN b.ordered_at + b.to_confirm + b.to_ship END, md5(b.n::text),
       -- about three orders a buyer (the database gives each its buyer key as it is written)
       format('buyer%s@example.com', b.n * 7919 % greatest(:orders / 3, 1))
FROM bench_orders b
JOIN bench_states st ON st.channel = b.channel AND st.kind = b.kind
ORDER BY b.ordered_at;

INSERT INTO core.order_items (order_id, channel_item_id, sku, unit_price, quantity, channel_state, product_id,
                              match_status, matched_by)
SELECT o.order_id, k::text, p.idx::text, 10 + (o.order_id + k) % 40, 1 + (o.order_id + k) % 3,
       CASE WHEN (o.order_id * 7 + k) % 200 < 2 THEN 'confirmed_unavailable'
            WHEN (o.order_id * 7 + k) % 200 = 2 THEN 'returned'
            WHEN o.channel = 'letzshop' THEN 'confirmed_available' ELSE o.channel_state END,
       p.product_id, 'matched', 'sku'
FROM core.orders o
JOIN bench_orders b ON b.n = substr(o.channel_order_id, 2)::bigint
CROSS JOIN LATERAL generate_series(1, b.items) AS k
JOIN bench_products p ON p.store_id = o.store_id AND p.idx = (o.order_id * 13 + k * 101) % :products
ORDER BY o.order_id, k;

-- The confirmations: a queued write (confirming) and its success, confirm hours after the order.
INSERT INTO core.order_status_history (order_id, store_id, field, old_value, new_value, changed_at, cause)
SELECT o.order_id, o.store_id, 'sync_status', 'confirming', 'confirmed', b.ordered_at + b.to_confirm,
       'outbound write (confirm)'
FROM core.orders o
JOIN bench_orders b ON b.n = substr(o.channel_order_id, 2)::bigint
WHERE b.kind IN ('confirmed', 'shipped', 'partly', 'refunded') AND NOT (b.kind = 'shipped' AND b.n % 10 = 0);

INSERT INTO ops.order_exceptions (store_id, order_id, order_item_id, kind, status, sku, created_at, resolved_at,
                                  resolution)
SELECT o.store_id, o.order_id, i.order_item_id,
       (ARRAY['product_not_found', 'gtin_mismatch', 'duplicate_gtin'])[1 + o.order_id % 3],
       CASE WHEN o.order_id % 1000 = 0 THEN 'pending' WHEN o.order_id % 1000 = 500 THEN 'ignored' ELSE 'resolved' END,
       i.sku, o.imported_at,
       CASE WHEN o.order_id % 500 <> 0 THEN o.imported_at + interval '2 hours' END,
       CASE WHEN o.order_id % 500 <> 0 THEN 'assigned' END
FROM core.orders o
JOIN core.order_items i ON i.order_id = o.order_id AND i.channel_item_id = '1'
WHERE o.order_id % 100 = 0;

-- Stock: every product on every channel of its store, 5% at zero; ten pushes each, the zeros last.
INSERT INTO ops.inventory_syncs (account_id, mode, status, listings, processed, succeeded, started_at, finished_at)
SELECT a.account_id, 'incremental', 'succeeded', :products, :products, :products,
       now() - make_interval(days => d), now() - make_interval(days => d) + interval '1 minute'
FROM ops.accounts a CROSS JOIN generate_series(1, 10) AS d;

INSERT INTO core.stock_ledger (inventory_sync_id, account_id, product_id, sku, ffn_on_hand, ffn_foreign_reserved,
                               feed_quantity, manual_quantity, reserved, shipped_uncounted, safety_stock, available,
                               out_of_stock_threshold, sync_zero_stock, on_demand, pushed_quantity, answer,
                               answered_at, computed_at, listed)
SELECT y.inventory_sync_id, a.account_id, p.product_id, format('SKU-%s', p.idx), 0, 0, q.quantity, 0, 0, 0, 0,
       q.quantity, 0, true, false, core.listed_quantity(q.quantity, NULL::integer, NULL::integer, 0, true), 'accepted',
       y.finished_at, y.started_at, true
FROM bench_accounts a
JOIN bench_products p ON p.store_id = a.store_id
JOIN ops.inventory_syncs y ON y.account_id = a.account_id
CROSS JOIN LATERAL (SELECT CASE WHEN p.product_id % 20 = 0 AND y.started_at > now() - interval '4 days' THEN 0
                                ELSE 1 + (p.product_id * 17 + y.inventory_sync_id) % 60 END::integer AS quantity) AS q
ORDER BY y.inventory_sync_id, p.product_id;

INSERT INTO core.channel_stock (account_id, product_id, acknowledged_quantity, acknowledged_at, ledger_id)
SELECT DISTINCT ON (l.account_id, l.product_id) l.account_id, l.product_id, l.pushed_quantity, l.answered_at,
       l.ledger_id
FROM core.stock_ledger l ORDER BY l.account_id, l.product_id, l.ledger_id DESC;

-- Catalog sources importing hourly.
INSERT INTO ops.catalog_sources (store_id, name, kind, format, location)
SELECT s.store_id, c.name, c.kind, c.format, 'https://feeds.example.org/' || c.name
FROM ops.stores s
CROSS JOIN (VALUES ('letzshop_feed', 'letzshop_feed', 'tsv'), ('supplier-a', 'pull_feed', 'csv'),
                   ('supplier-b', 'pull_feed', 'xml')) AS c (name, kind, format);

INSERT INTO ops.import_runs (source_id, status, rows_read, rows_loaded, rows_unchanged, rows_quarantined,
                             started_at, finished_at, error)
SELECT c.source_id, CASE WHEN f THEN 'failed' WHEN q > 0 THEN 'partially_completed' ELSE 'completed' END,
       CASE WHEN f THEN 0 ELSE :products END, CASE WHEN f THEN 0 ELSE 50 END,
       CASE WHEN f THEN 0 ELSE :products - 50 - q END, CASE WHEN f THEN 0 ELSE q END,
       t, t + interval '90 seconds', CASE WHEN f THEN 'the server answered 503' END
FROM ops.catalog_sources c
CROSS JOIN generate_series(now() - make_interval(days => :days), now() - interval '10 minutes',
                           interval '1 hour') AS t
CROSS JOIN LATERAL (SELECT (extract(epoch FROM t)::bigint / 3600 + c.source_id) % 20 = 0 AS f,
                           ((extract(epoch FROM t)::bigint / 3600 + c.source_id) % 7)::int AS q) AS o;

-- The sync log: order imports every 15 minutes and stock pushes every 30, 2% failed.
INSERT INTO ops.sync_log (account_id, operation, direction, records_processed, records_succeeded, started_at,
                          completed_at, failed, triggered_by)
SELECT a.account_id, op.operation, op.direction, 3, CASE WHEN f THEN 0 ELSE 3 END, t,
       t + interval '4 seconds', f, 'sensor'
FROM ops.accounts a
CROSS JOIN (VALUES ('import_orders', 'inbound', 15), ('stock_push_incremental', 'outbound', 30)) AS op
           (operation, direction, minutes)
CROSS JOIN LATERAL generate_series(now() - make_interval(days => :days), now() - interval '1 minute',
                                   make_interval(mins => op.minutes)) AS t
CROSS JOIN LATERAL (SELECT (extract(epoch FROM t)::bigint / 60 + a.account_id) % 50 = 0 AS f) AS failure;
