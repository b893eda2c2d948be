-- Lines of the matching run that carried a barcode the importer refused (gtin14 left null).
-- Few in practice; matching.py words the reason for each in Python, where the GTIN rules live.
SELECT w.order_item_id, w.barcode, w.barcode_type
FROM match_work w
WHERE w.gtin14 IS NULL
  AND btrim(coalesce(w.barcode, '')) <> ''
