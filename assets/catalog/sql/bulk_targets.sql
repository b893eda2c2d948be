-- Open exceptions (pending or ignored) of a store about one GTIN, or, when the code given is not a
-- valid GTIN, about that exact barcode as the channel sent it.
SELECT e.exception_id
FROM ops.order_exceptions e
WHERE e.store_id = :store_id
  AND e.status IN ('pending', 'ignored')
  AND (e.gtin14 = CAST(:gtin14 AS char(14))
       OR (CAST(:gtin14 AS text) IS NULL AND btrim(e.barcode) = :barcode))
