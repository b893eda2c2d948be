-- The operations benchmark's fleet: :stores stores with a Letzshop, an Amazon and an eBay account each,
-- and :days days of their life at the rate a real fleet has: an order import every 15 minutes per account
-- (1% ended on an error), a stock push every 30 minutes per account, :orders orders per store and day
-- spread over the three channels, one confirmation written per order (a few still pending, some
-- dead-lettered), and a history of closed alerts. About 2% of the accounts import hours late, 4% a little
-- late; the statements run one by one (each ends with ';' at the end of a line).
INSERT INTO ops.stores (code, name)
SELECT format('store%s', lpad(n::text, 5, '0')), format('Store %s', n) FROM generate_series(1, :stores) AS n;

INSERT INTO ops.accounts (store_id, channel, endpoint, created_at, last_synced_at, settings)
SELECT s.store_id, c.channel, 'http://127.0.0.1:9/', now() - interval '400 days',
       now() - make_interval(secs => CASE WHEN r < 0.02 THEN 7200 + r * 500000
                                          WHEN r < 0.06 THEN 1000 + r * 20000 ELSE r * 600 END),
       CASE c.channel WHEN 'amazon' THEN '{"seller_id": "BENCH", "marketplace_ids": ["A1PA6795UKMFR9"]}'::jsonb
                      ELSE '{}'::jsonb END
FROM ops.stores s
CROSS JOIN (VALUES ('letzshop'), ('amazon'), ('ebay')) AS c (channel)
CROSS JOIN LATERAL (SELECT random() + s.store_id * 0 AS r) AS rnd;

INSERT INTO ops.stock_settings (account_id, strategy, adapter, updated_at)
SELECT account_id, 'batch', channel || '_bench', now() - interval '300 days' FROM ops.accounts;

INSERT INTO ops.sync_log (account_id, operation, direction, records_processed, records_succeeded, started_at,
                          completed_at, failed, errors, triggered_by)
SELECT a.account_id, 'import_orders', 'inbound', 3, CASE WHEN f THEN 0 ELSE 3 END, t,
       t + make_interval(secs => 1 + 8 * random() ^ 3 + CASE WHEN f THEN 30 ELSE 0 END), f,
       CASE WHEN f THEN '["the channel answered 503 three times: try later"]'::jsonb ELSE '[]'::jsonb END, 'sensor'
FROM ops.accounts a
CROSS JOIN generate_series(now() - make_interval(days => :days) + make_interval(secs => 60 * random()), now(),
                           interval '15 minutes') AS t
CROSS JOIN LATERAL (SELECT random() < 0.01 + a.account_id * 0 AS f) AS failure;

INSERT INTO ops.inventory_syncs (account_id, mode, status, listings, processed, succeeded, started_at, finished_at)
SELECT a.account_id, 'incremental', 'succeeded', 200, 12, 12, t, t + interval '20 seconds'
FROM ops.accounts a
CROSS JOIN generate_series(now() - make_interval(days => :days), now() - interval '5 minutes',
                           interval '30 minutes') AS t;

INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id, order_number,
                         channel_state, sync_status, total, source_payload_sha, ordered_at, imported_at)
SELECT a.store_id, a.account_id, a.channel, format('B-%s-%s', a.account_id, n), format('B-%s-%s', a.account_id, n),
       format('B-%s-%s', a.account_id, n),
       CASE a.channel WHEN 'letzshop' THEN 'confirmed' WHEN 'amazon' THEN 'Unshipped' ELSE 'NOT_STARTED' END,
       'confirmed', 25 + n % 70, 'bench', o.at, o.at + interval '9 minutes'
FROM ops.accounts a
CROSS JOIN generate_series(1, :days * :orders / 3) AS n
CROSS JOIN LATERAL (SELECT now() - make_interval(secs => :days * 86400.0 * random() + n * 0) AS at) AS o;

INSERT INTO ops.outbound_queue (account_id, order_id, operation, payload, idempotency_key, status, attempts,
                                created_at, updated_at, completed_at, next_attempt_at, last_error)
SELECT o.account_id, o.order_id, 'confirm', '{}'::jsonb, 'bench-' || o.order_id,
       CASE WHEN o.imported_at > now() - interval '3 minutes' THEN 'pending'
            WHEN o.order_id % 997 = 0 THEN 'dead' ELSE 'succeeded' END,
       1, o.imported_at, o.imported_at, o.imported_at + interval '4 seconds', o.imported_at,
       CASE WHEN o.order_id % 997 = 0 THEN 'the channel refused the confirmation' END
FROM core.orders o;

INSERT INTO ops.alerts (source, message, account_id, store_id, severity, condition_key, created_at, last_seen_at,
                        closed_at)
SELECT 'run_failure', 'the channel answered 503 three times: try later', a.account_id, a.store_id, 'error',
       'run_failure:' || a.account_id, now() - make_interval(days => d), now() - make_interval(days => d),
       now() - make_interval(days => d) + interval '30 minutes'
FROM ops.accounts a
CROSS JOIN generate_series(1, 10) AS d
WHERE a.account_id % 7 = 0;

INSERT INTO ops.alerts (source, message, account_id, store_id, severity, condition_key)
SELECT 'run_failure', 'the channel refused the stored credentials (401): authorise marketsync again',
       a.account_id, a.store_id, 'error', 'run_failure:' || a.account_id
FROM ops.accounts a
WHERE a.last_synced_at < now() - interval '2 hours';
