-- The storefront benchmark's history: :history orders per store already received through the API (raw
-- version, canonical order, two lines, the kept answer of its request), then ANALYZE, so the run meets
-- tables of a shop that has been selling for a while rather than empty ones.
INSERT INTO raw.channel_orders (account_id, channel_order_id, payload, payload_sha, received_at)
SELECT a.account_id, 'HIST-' || g, jsonb_build_object('order_number', 'HIST-' || g, 'status', 'shipped'),
       md5(a.account_id || '-' || g), now() - make_interval(mins => g)
FROM ops.accounts a CROSS JOIN generate_series(1, :history) g
WHERE a.channel = 'storefront';

INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id, order_number,
                         customer_email, customer_name, total, currency, channel_state, sync_status, ordered_at,
                         shipped_at, source_payload_sha, followed_up_at)
SELECT a.store_id, a.account_id, 'storefront', 'HIST-' || g, 'HIST-' || g, 'HIST-' || g,
       'buyer' || g || '@example.org', 'Buyer ' || g, 49.90, 'EUR', 'shipped', 'shipped',
       now() - make_interval(mins => g), now() - make_interval(mins => g), md5(a.account_id || '-' || g), now()
FROM ops.accounts a CROSS JOIN generate_series(1, :history) g
WHERE a.channel = 'storefront';

INSERT INTO core.order_items (order_id, channel_item_id, sku, title, unit_price, channel_state, quantity,
                              product_id, match_status, matched_by)
SELECT o.order_id, line::text, p.sku, p.title, 19.90, 'shipped', 1, p.product_id, 'matched', 'sku'
FROM core.orders o
CROSS JOIN generate_series(1, 2) line
JOIN core.products p ON p.store_id = o.store_id AND p.sku = 'SKU-' || (1 + (o.order_id * line) % 1000)
WHERE o.channel = 'storefront';

INSERT INTO ops.api_idempotency_keys (account_id, idempotency_key, request_sha, status_code, answer, order_id, created_at)
SELECT o.account_id, 'hist-' || o.order_id, o.source_payload_sha, 201, '{}'::json, o.order_id, o.ordered_at
FROM core.orders o
WHERE o.channel = 'storefront' AND o.ordered_at > now() - interval '7 days';
