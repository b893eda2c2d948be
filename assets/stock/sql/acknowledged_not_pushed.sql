-- Every listing the channel acknowledged that push :s has no ledger row for, at its acknowledged number.
SELECT p.sku, c.acknowledged_quantity
FROM core.channel_stock c JOIN core.products p USING (product_id)
WHERE c.account_id = :a
  AND NOT EXISTS (SELECT 1 FROM core.stock_ledger l WHERE l.inventory_sync_id = :s AND l.product_id = c.product_id)
