-- Link the order lines behind the given exceptions to one product, and resolve every exception
-- still open (pending or ignored) on those lines: once the line's product is decided, none of
-- them is a question any more. Also returns the products the lines pointed at before, so the
-- caller can drop placeholders left without lines.
WITH target AS (
    SELECT DISTINCT e.order_item_id, i.product_id AS previous_product_id
    FROM ops.order_exceptions e
    JOIN core.order_items i ON i.order_item_id = e.order_item_id
    WHERE e.exception_id = ANY (CAST(:exception_ids AS bigint[]))
      AND e.status IN ('pending', 'ignored')
),
linked AS (
    UPDATE core.order_items i
    SET product_id = :product_id, match_status = 'matched', matched_by = :matched_by, updated_at = now()
    FROM target t
    WHERE i.order_item_id = t.order_item_id
    RETURNING i.order_item_id
),
resolved AS (
    UPDATE ops.order_exceptions e
    SET status = 'resolved', resolved_product_id = :product_id, resolution = :resolution,
        resolved_by = :resolved_by, resolved_at = now()
    FROM linked l
    WHERE e.order_item_id = l.order_item_id
      AND e.status IN ('pending', 'ignored')
    RETURNING e.exception_id
)
SELECT (SELECT count(*) FROM resolved) AS resolved,
       (SELECT coalesce(array_agg(DISTINCT previous_product_id), '{}') FROM target
         WHERE previous_product_id IS NOT NULL) AS previous_products
