-- The intake's own quick match, so that a shop's order reserves its units the moment it is accepted: a
-- line without a barcode whose SKU names a product of the store. (A line with a GTIN was matched by it
-- as it was written, when the GTIN names one product.) Everything else waits for the follow-up's
-- matching step, which stays the authority and opens the exceptions.
-- Driven by the order ids, each step an index probe: right after a burst of orders the statistics say
-- the tables are nearly empty, and a plan built on that rescans core.orders for every line.
WITH lines AS MATERIALIZED (
    SELECT i.order_item_id, o.store_id, btrim(i.sku) AS sku
    FROM unnest(CAST(:order_ids AS bigint[])) AS x(order_id)
    JOIN core.orders o ON o.order_id = x.order_id
    JOIN core.order_items i ON i.order_id = x.order_id
    WHERE i.match_status = 'pending' AND i.barcode IS NULL
)
UPDATE core.order_items i
SET product_id = p.product_id, match_status = 'matched', matched_by = 'sku', updated_at = now()
FROM lines l
JOIN core.products p ON p.store_id = l.store_id AND p.sku = l.sku AND NOT p.is_placeholder
WHERE i.order_item_id = l.order_item_id
