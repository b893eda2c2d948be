-- Matching, step 2, in one statement over step 1's match_work: decide every line, create the
-- placeholder products unmatched lines need, link the lines, open the exceptions. The rules are
-- spelled out in matching.py's docstring.
WITH refused AS (
    -- Lines whose barcode was present but invalid and carries a real number (not "N/A" or "0"):
    -- the reason in words and the digits zero-padded to 14 (null when not all digits), from Python.
    SELECT r.order_item_id, r.problem, r.digits14
    FROM unnest(CAST(:refused_ids AS bigint[]), CAST(:refused_problems AS text[]),
                CAST(:refused_digits AS text[])) AS r (order_item_id, problem, digits14)
),
decided AS (
    SELECT w.*,
           r.order_item_id IS NOT NULL AS barcode_refused, r.problem AS barcode_problem,
           CASE WHEN w.gtin_products = 1 THEN w.gtin_product_id
                WHEN coalesce(w.gtin_products, 0) = 0 THEN w.sku_product_id END AS product_id,
           CASE WHEN w.gtin_products = 1 THEN 'gtin'
                WHEN coalesce(w.gtin_products, 0) = 0 AND w.sku_product_id IS NOT NULL THEN 'sku' END AS matched_by,
           CASE WHEN w.gtin_products = 1 THEN NULL
                WHEN w.gtin_products > 1 THEN 'duplicate_gtin'
                WHEN w.sku_product_id IS NULL THEN 'product_not_found'
                -- Matched by SKU: only a catalog GTIN can contradict the line's barcode.
                WHEN w.sku_product_gtin14 IS NULL THEN NULL
                WHEN w.gtin14 IS NOT NULL THEN CASE WHEN w.sku_product_gtin14 <> w.gtin14 THEN 'gtin_mismatch' END
                WHEN r.order_item_id IS NOT NULL AND w.sku_product_gtin14 IS DISTINCT FROM r.digits14 THEN 'gtin_mismatch'
           END AS kind
    FROM match_work w
    LEFT JOIN refused r ON r.order_item_id = w.order_item_id
),
placeholder_key AS (
    -- One placeholder per unknown barcode (or SKU when there is none), shared by all its lines.
    SELECT d.order_item_id,
           'unmatched:' || coalesce(d.gtin14,
                                    CASE WHEN d.barcode_refused THEN btrim(d.barcode) END,
                                    d.sku_key,
                                    'unknown') AS sku
    FROM decided d
    WHERE d.product_id IS NULL
),
new_placeholder AS (
    INSERT INTO core.products AS p (store_id, sku, gtin14, title, is_placeholder, attributes)
    SELECT DISTINCT ON (k.sku) :store_id, k.sku, d.gtin14, d.title, true,
           jsonb_strip_nulls(jsonb_build_object('barcode', d.barcode, 'channel_sku', d.sku))
    FROM placeholder_key k
    JOIN decided d ON d.order_item_id = k.order_item_id
    ORDER BY k.sku, d.order_item_id
    ON CONFLICT (store_id, sku) DO NOTHING
    RETURNING p.product_id, p.sku
),
placeholder AS (
    -- This statement cannot see its own inserts, so existing and new placeholders come separately.
    SELECT product_id, sku FROM new_placeholder
    UNION ALL
    SELECT p.product_id, p.sku
    FROM core.products p
    WHERE p.store_id = :store_id AND p.sku IN (SELECT sku FROM placeholder_key)
),
linked AS (
    UPDATE core.order_items i
    SET product_id = coalesce(d.product_id, ph.product_id),
        match_status = CASE WHEN d.product_id IS NULL THEN 'unmatched' ELSE 'matched' END,
        matched_by = d.matched_by,
        updated_at = now()
    FROM decided d
    LEFT JOIN placeholder_key k ON k.order_item_id = d.order_item_id
    LEFT JOIN placeholder ph ON ph.sku = k.sku
    -- No filter on match_status here: its statistics are what misleads the planner (see step 1),
    -- and the store lock held since step 1 means no line left 'pending' in between.
    WHERE i.order_item_id = d.order_item_id
    RETURNING i.order_item_id, i.match_status, i.matched_by
),
opened AS (
    INSERT INTO ops.order_exceptions (store_id, order_id, order_item_id, kind, gtin14, barcode, sku, details)
    SELECT :store_id, d.order_id, d.order_item_id, d.kind, d.gtin14, d.barcode, d.sku,
           jsonb_strip_nulls(CASE d.kind
               WHEN 'duplicate_gtin' THEN jsonb_build_object(
                   'reason', format('several catalog products share GTIN %s', d.gtin14),
                   -- Enough candidates to choose from, bounded however many share the GTIN.
                   'candidates', (SELECT jsonb_agg(jsonb_build_object('product_id', c.product_id, 'sku', c.sku)
                                                   ORDER BY c.product_id)
                                  FROM (SELECT p.product_id, p.sku
                                        FROM core.products_with_gtin(:store_id, d.gtin14) AS hit(product_id)
                                        JOIN core.products p USING (product_id)
                                        LIMIT 10) c))
               WHEN 'gtin_mismatch' THEN jsonb_build_object(
                   'reason', CASE WHEN d.gtin14 IS NOT NULL
                       THEN format('matched by SKU %s, but the order line''s GTIN %s differs from the product''s GTIN %s',
                                   d.sku_product_sku, d.gtin14, d.sku_product_gtin14)
                       ELSE format('matched by SKU %s, but the order line''s barcode is invalid (%s) and the product''s GTIN is %s',
                                   d.sku_product_sku, d.barcode_problem, d.sku_product_gtin14) END,
                   'product_id', d.sku_product_id,
                   'product_sku', d.sku_product_sku,
                   'product_gtin14', d.sku_product_gtin14,
                   'barcode_problem', d.barcode_problem)
               ELSE jsonb_build_object(
                   'reason', coalesce('no catalog product has ' || nullif(concat_ws(' or ',
                       'GTIN ' || d.gtin14,
                       CASE WHEN d.barcode_refused THEN 'barcode ' || btrim(d.barcode) END,
                       'SKU ' || d.sku_key), ''), 'the order line has neither a barcode nor a SKU'),
                   'barcode_problem', d.barcode_problem)
           END)
    FROM decided d
    JOIN linked l ON l.order_item_id = d.order_item_id
    WHERE d.kind IS NOT NULL
    ON CONFLICT (order_item_id, kind) DO NOTHING
    RETURNING kind
)
SELECT (SELECT count(*) FROM linked) AS items,
       (SELECT count(*) FROM linked WHERE matched_by = 'gtin') AS matched_by_gtin,
       (SELECT count(*) FROM linked WHERE matched_by = 'sku') AS matched_by_sku,
       (SELECT count(*) FROM linked WHERE match_status = 'unmatched') AS unmatched,
       (SELECT coalesce(jsonb_object_agg(kind, n), '{}')
          FROM (SELECT kind, count(*) AS n FROM opened GROUP BY kind) per_kind) AS opened
