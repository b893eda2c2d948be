-- Orders whose lines (unit price x quantity) do not add up to the items' total the channel states.
-- Letzshop's order total is the items' total (no shipping charged on top). Amazon's grandTotal adds
-- shipping (proceeds.breakdowns SHIPPING) and eBay's total adds delivery cost and the tax it collects, so
-- their lines are compared with the ITEM breakdown (Amazon) or priceSubtotal (eBay) of the very payload
-- the order was loaded from; the rest of the total is what those name.
WITH lines AS (
    SELECT order_id, sum(unit_price * quantity) AS lines, bool_and(unit_price IS NOT NULL) AS priced
    FROM core.order_items GROUP BY order_id
), stated AS (
    SELECT o.order_number, o.total, l.lines,
           CASE o.channel
               WHEN 'amazon' THEN (SELECT sum((b -> 'subtotal' ->> 'amount')::numeric)
                                   FROM jsonb_array_elements(r.payload -> 'proceeds' -> 'breakdowns') b
                                   WHERE b ->> 'type' = 'ITEM')
               WHEN 'ebay' THEN (r.payload -> 'pricingSummary' -> 'priceSubtotal' ->> 'value')::numeric
               ELSE o.total
           END AS items_total
    FROM core.orders o
    JOIN lines l USING (order_id)
    LEFT JOIN raw.channel_orders r ON o.channel IN ('amazon', 'ebay') AND r.account_id = o.account_id
         AND r.channel_order_id = o.channel_order_id AND r.payload_sha = o.source_payload_sha
    WHERE o.channel = :channel AND o.total IS NOT NULL AND l.priced
)
SELECT count(*) AS failing,
       (array_agg(order_number || ': lines ' || lines || ', items total ' || coalesce(items_total::text, 'unknown')
                  ORDER BY order_number))[1:5] AS examples
FROM stated
WHERE items_total IS DISTINCT FROM lines
