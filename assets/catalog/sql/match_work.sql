-- Matching, step 1: every pending line of the store (of the given orders, if any) with what the
-- catalog says about its GTIN and its SKU. Right after an import the statistics on order_items are
-- stale (they say hardly anything is pending), and a plan built on them joins tens of thousands of
-- lines in nested loops. So every lookup here is an index probe, linear whatever the estimates,
-- and the result goes into a temporary table: step 2 is planned on its real size.
CREATE TEMP TABLE match_work ON COMMIT DROP AS
SELECT i.order_item_id, i.order_id, i.sku, nullif(btrim(i.sku), '') AS sku_key,
       i.barcode, i.barcode_type, i.gtin14, i.title,
       g.n AS gtin_products, g.product_id AS gtin_product_id,
       s.product_id AS sku_product_id, s.sku AS sku_product_sku, s.gtin14 AS sku_product_gtin14
FROM core.order_items i
LEFT JOIN LATERAL (
    -- Two products are enough to know the GTIN is ambiguous; reading no further keeps a catalog
    -- in which thousands of products share one GTIN from costing thousands of reads per line.
    SELECT count(*) AS n, min(hit.product_id) AS product_id
    FROM (SELECT g.product_id FROM core.products_with_gtin(:store_id, i.gtin14) AS g(product_id) LIMIT 2) hit
) g ON i.gtin14 IS NOT NULL
LEFT JOIN LATERAL (
    -- The SKU is only looked up when the GTIN did not settle the line, so most lines skip this
    -- probe. OFFSET 0 keeps the planner from flattening the subquery into a join, which would
    -- probe for every line and only then apply the condition.
    SELECT s.product_id, s.sku, s.gtin14
    FROM core.products s
    WHERE g.n IS DISTINCT FROM 1
      AND s.store_id = :store_id AND s.sku = nullif(btrim(i.sku), '') AND NOT s.is_placeholder
    OFFSET 0
) s ON true
WHERE i.match_status = 'pending'
  -- A per-line primary-key probe on purpose: as a join, stale statistics on a new store's orders
  -- made the planner rescan all the store's orders for every line.
  AND (SELECT o.store_id FROM core.orders o WHERE o.order_id = i.order_id) = :store_id
  AND (CAST(:order_ids AS bigint[]) IS NULL OR i.order_id = ANY (CAST(:order_ids AS bigint[])))
