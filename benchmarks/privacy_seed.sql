-- The privacy benchmark's warehouse: the given number of stores with a Letzshop and an Amazon account
-- each and the given number of orders spread over them (each buyer orders 2 to 3 times in their store), each order with a
-- shipping address, its payload as the channel sent it (Letzshop shipments, Amazon orders) and a
-- confirmation in the outbound queue; every 10th order also handed to a fulfiller with its address.
-- Every order last changed the given age ago. Eight days of import runs per account in the sync log.
INSERT INTO ops.stores (code) SELECT format('store%s', lpad(n::text, 4, '0')) FROM generate_series(1, :stores) n;

INSERT INTO ops.accounts (store_id, channel, endpoint)
SELECT s.store_id, c.channel, 'http://127.0.0.1:9/' FROM ops.stores s
CROSS JOIN (VALUES ('letzshop'), ('amazon')) AS c (channel);

CREATE TEMP TABLE bench_orders AS
SELECT n, a.store_id, a.account_id, a.channel,
       format('b%s-%s@example.org', a.store_id, (n / :stores) / 5 * 2 + (n % 2)) AS email,
       (ARRAY['Jean', 'Marie', 'Luca', 'Sofia', 'Noah'])[1 + n % 5] AS first_name,
       format('Muller%s', n % 9973) AS last_name,
       format('Rue %s', n % 811) AS street
FROM generate_series(1, :orders) n
JOIN ops.accounts a ON a.account_id = 1 + (n % (2 * :stores));

INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id, order_number,
                         customer_email, customer_name, customer_locale, total, channel_state, ordered_at,
                         source_payload_sha, updated_at)
SELECT store_id, account_id, channel, format('O%s', n), format('S%s', n), format('R%s', n), email,
       first_name || ' ' || last_name, 'fr', 20 + n % 180, 'shipped',
       now() - CAST(:age AS interval) - interval '3 days', md5(n::text), now() - CAST(:age AS interval)
FROM bench_orders ORDER BY n;

INSERT INTO core.order_addresses (order_id, kind, first_name, last_name, street_name, street_number, zip_code, city,
                                  country_iso, phone)
SELECT o.order_id, 'shipping', b.first_name, b.last_name, b.street, '12', '1234', 'Esch-sur-Alzette', 'LU',
       format('+352 621 %s', 100000 + b.n % 899999)
FROM bench_orders b JOIN core.orders o ON o.account_id = b.account_id AND o.channel_shipment_id = format('S%s', b.n);

INSERT INTO raw.letzshop_shipments (account_id, shipment_id, payload, payload_sha, received_at)
SELECT b.account_id, format('S%s', b.n), jsonb_build_object(
    'id', format('S%s', b.n), 'number', format('H%s', b.n), 'state', 'confirmed', 'order', jsonb_build_object(
        'id', format('O%s', b.n), 'number', format('R%s', b.n), 'email', b.email, 'total', 20 + b.n % 180,
        'locale', 'fr', 'completedAt', '2024-01-01T10:00:00Z',
        'shipAddress', jsonb_build_object('firstName', b.first_name, 'lastName', b.last_name, 'streetName', b.street,
                                          'streetNumber', '12', 'zipCode', '1234', 'city', 'Esch-sur-Alzette',
                                          'phone', '+352 621 123456', 'country', jsonb_build_object('iso', 'LU')),
        'billAddress', jsonb_build_object('firstName', b.first_name, 'lastName', b.last_name, 'streetName', b.street,
                                          'zipCode', '1234', 'city', 'Esch-sur-Alzette',
                                          'country', jsonb_build_object('iso', 'LU'))),
    'inventoryUnits', jsonb_build_array(jsonb_build_object('id', 'U1', 'state', 'confirmed', 'variant',
        jsonb_build_object('sku', format('SKU%s', b.n % 500), 'price', 20.5,
                           'tradeId', jsonb_build_object('number', '4006381333931', 'parser', 'ean'))))),
    md5(b.n::text), now() - CAST(:age AS interval)
FROM bench_orders b WHERE b.channel = 'letzshop';

INSERT INTO raw.channel_orders (account_id, channel_order_id, payload, payload_sha, received_at)
SELECT b.account_id, format('S%s', b.n), jsonb_build_object(
    'orderId', format('S%s', b.n), 'createdTime', '2024-01-01T10:00:00Z', 'fulfillment',
    jsonb_build_object('fulfillmentStatus', 'SHIPPED', 'fulfilledBy', 'MERCHANT'),
    'buyer', jsonb_build_object('buyerName', b.first_name || ' ' || b.last_name, 'buyerEmail', b.email),
    'recipient', jsonb_build_object('deliveryAddress', jsonb_build_object(
        'name', b.first_name || ' ' || b.last_name, 'addressLine1', b.street || ' 12', 'city', 'Esch-sur-Alzette',
        'postalCode', '1234', 'countryCode', 'LU', 'addressType', 'RESIDENTIAL')),
    'orderItems', jsonb_build_array(jsonb_build_object('orderItemId', '1', 'quantityOrdered', 1, 'product',
        jsonb_build_object('sellerSku', format('SKU%s', b.n % 500), 'asin', 'B0BENCH'))),
    'proceeds', jsonb_build_object('grandTotal', jsonb_build_object('amount', 20 + b.n % 180,
                                                                    'currencyCode', 'EUR'))),
    md5(b.n::text), now() - CAST(:age AS interval)
FROM bench_orders b WHERE b.channel = 'amazon';

INSERT INTO ops.outbound_queue (account_id, order_id, operation, payload, idempotency_key, status, triggered_by,
                                completed_at)
SELECT o.account_id, o.order_id, 'confirm', jsonb_build_object('shipment_id', o.channel_shipment_id),
       'confirm:' || o.order_id, 'succeeded', 'bench', now()
FROM core.orders o;

INSERT INTO ops.outbound_queue (account_id, order_id, operation, payload, idempotency_key, status, triggered_by,
                                completed_at)
SELECT o.account_id, o.order_id, 'ffn_create_outbound', jsonb_build_object(
           'merchantOutboundNumber', o.order_number, 'shippingAddress', jsonb_build_object(
               'firstname', a.first_name, 'lastname', a.last_name, 'street', a.street_name || ' 12',
               'zip', a.zip_code, 'city', a.city, 'country', 'LU', 'email', o.customer_email)),
       'ffn:' || o.order_id, 'succeeded', 'bench', now()
FROM core.orders o JOIN core.order_addresses a USING (order_id) WHERE o.order_id % 10 = 0;

INSERT INTO ops.sync_log (account_id, operation, direction, records_processed, records_succeeded, started_at,
                          completed_at, triggered_by)
SELECT a.account_id, 'import_orders', 'inbound', 3, 3, t, t + interval '2 seconds', 'sensor'
FROM ops.accounts a
CROSS JOIN generate_series(now() - interval '8 days', now(), interval '15 minutes') AS t;
