-- Channel order ids that name more than one of our orders in one account. A channel that splits an
-- order into shipments (Letzshop) stores one row per shipment, each under its own shipment id; a channel
-- that stores whole orders (channel_shipment_id = channel_order_id: Amazon, eBay) must store each once.
WITH duplicated AS (
    SELECT o.account_id, o.channel_order_id, count(*) AS copies
    FROM core.orders o
    WHERE o.channel = :channel
    GROUP BY o.account_id, o.channel_order_id
    HAVING count(*) > 1 AND bool_or(o.channel_shipment_id = o.channel_order_id)
)
SELECT count(*) AS failing, (array_agg(channel_order_id || ' x' || copies ORDER BY channel_order_id))[1:5] AS examples
FROM duplicated
