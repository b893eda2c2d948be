-- Pending order lines of a store that carried a barcode the importer refused (gtin14 left null).
-- Few in practice; matching.py words the reason for each in Python, where the GTIN rules live.
SELECT i.order_item_id, i.barcode, i.barcode_type
FROM core.order_items i
JOIN core.orders o ON o.order_id = i.order_id
WHERE o.store_id = :store_id
  AND i.match_status = 'pending'
  AND i.gtin14 IS NULL
  AND btrim(coalesce(i.barcode, '')) <> ''
  AND (CAST(:order_ids AS bigint[]) IS NULL OR i.order_id = ANY (CAST(:order_ids AS bigint[])))
