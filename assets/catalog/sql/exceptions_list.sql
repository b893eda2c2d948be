-- Matching exceptions with what a person needs to decide them: the order, the line as the channel
-- sent it, and the product it was resolved to. Every filter is optional (null = any).
SELECT e.exception_id, s.code AS store, e.store_id, e.order_id, o.order_number, o.channel,
       e.order_item_id, e.kind, e.status, e.gtin14, e.barcode, e.sku, i.title, e.details,
       i.product_id, i.match_status, i.matched_by,
       e.resolved_product_id, rp.sku AS resolved_sku, e.resolution, e.resolved_by, e.resolved_at,
       e.created_at
FROM ops.order_exceptions e
JOIN ops.stores s ON s.store_id = e.store_id
JOIN core.orders o ON o.order_id = e.order_id
JOIN core.order_items i ON i.order_item_id = e.order_item_id
LEFT JOIN core.products rp ON rp.product_id = e.resolved_product_id
WHERE (CAST(:store_id AS bigint) IS NULL OR e.store_id = :store_id)
  AND (CAST(:statuses AS text[]) IS NULL OR e.status = ANY (CAST(:statuses AS text[])))
  AND (CAST(:kind AS text) IS NULL OR e.kind = :kind)
  AND (CAST(:order_id AS bigint) IS NULL OR e.order_id = :order_id)
  AND (CAST(:exception_id AS bigint) IS NULL OR e.exception_id = :exception_id)
ORDER BY e.created_at, e.exception_id
