-- Every listing's availability in the push's snapshot; kept for the push: all listings (full), the
-- named ones (single), or those whose number differs from what the channel last acknowledged
-- (incremental); never a listing the rule leaves as it is (pushed_quantity null). A CREATE TABLE AS,
-- not an INSERT: only a plain query may use parallel workers.
CREATE TEMP TABLE stock_push_rows ON COMMIT DROP AS
SELECT a.*
FROM core.stock_availability(:store_id, :account_id) a
WHERE a.pushed_quantity IS NOT NULL  -- null: at or below the threshold, zeros not sent
  AND CASE CAST(:mode AS text)
          WHEN 'full' THEN true
          WHEN 'single' THEN a.sku = ANY(CAST(:skus AS text[]))
          ELSE a.pushed_quantity IS DISTINCT FROM a.acknowledged_quantity END
