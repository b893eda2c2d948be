-- Pending exceptions whose GTIN now names exactly one real product of the store: the catalog has
-- caught up (a product was added, a duplicate GTIN cleaned up, a wrong GTIN corrected), so the line
-- is linked as matching would link it today, by GTIN, and the exception resolves by itself.
-- Ignored exceptions are left alone: a person decided those.
WITH candidate AS (
    SELECT e.order_item_id, e.gtin14, i.product_id AS previous_product_id, hit.product_id, hit.sku
    FROM ops.order_exceptions e
    JOIN core.order_items i ON i.order_item_id = e.order_item_id
    -- One index probe per exception: linear however stale the statistics on a store's
    -- exceptions are (a first catalog load may face tens of thousands of them).
    -- (Two reads at most: a second product already means the GTIN is still ambiguous.)
    CROSS JOIN LATERAL (
        SELECT min(p.product_id) AS product_id, min(p.sku) AS sku
        FROM (SELECT p.product_id, p.sku
              FROM core.products_with_gtin(:store_id, e.gtin14) AS hit(product_id)
              JOIN core.products p USING (product_id)
              LIMIT 2) p
        HAVING count(*) = 1
    ) hit
    WHERE e.store_id = :store_id AND e.status = 'pending' AND e.gtin14 IS NOT NULL
),
linked AS (
    UPDATE core.order_items i
    SET product_id = c.product_id, match_status = 'matched', matched_by = 'gtin', updated_at = now()
    FROM candidate c
    WHERE i.order_item_id = c.order_item_id
    RETURNING i.order_item_id, c.product_id, c.sku, c.gtin14, c.previous_product_id
),
resolved AS (
    UPDATE ops.order_exceptions e
    SET status = 'resolved', resolved_product_id = l.product_id,
        resolution = format('resolved automatically: GTIN %s now matches product %s', l.gtin14, l.sku),
        resolved_by = :resolved_by, resolved_at = now()
    FROM linked l
    WHERE e.order_item_id = l.order_item_id
      AND e.status = 'pending'
    RETURNING e.exception_id
)
SELECT (SELECT count(*) FROM resolved) AS resolved,
       (SELECT coalesce(array_agg(DISTINCT previous_product_id), '{}') FROM linked
         WHERE previous_product_id IS NOT NULL) AS previous_products
