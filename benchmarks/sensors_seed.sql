-- The sensors benchmark's fleet: :stores stores, an account per channel in :channels (never synced, so
-- every one is due), and one new, unconfirmed order per store and channel.
WITH stores AS (
    INSERT INTO ops.stores (code)
    SELECT format('store%s', lpad(n::text, 5, '0')) FROM generate_series(1, :stores) AS n
    RETURNING store_id, code
), accounts AS (
    INSERT INTO ops.accounts (store_id, channel, endpoint, settings)
    SELECT s.store_id, c.channel, 'http://127.0.0.1:9/',
           CASE c.channel WHEN 'amazon' THEN '{"seller_id": "BENCH", "marketplace_ids": ["A1PA6795UKMFR9"]}'::jsonb
                          ELSE '{}'::jsonb END
    FROM stores s CROSS JOIN unnest(CAST(:channels AS text[])) AS c(channel)
    RETURNING account_id, store_id, channel
)
INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id, order_number,
                         channel_state, source_payload_sha)
SELECT a.store_id, a.account_id, a.channel, format('B-%s', a.account_id), format('B-%s', a.account_id),
       format('B-%s', a.account_id),
       CASE a.channel WHEN 'letzshop' THEN 'unconfirmed' WHEN 'amazon' THEN 'Unshipped' ELSE 'NOT_STARTED' END,
       'bench'
FROM accounts a;
