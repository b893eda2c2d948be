-- The answers to the last push that delivered something: per row (accepted, rejected) or not (delivered).
SELECT l.answer FROM core.stock_ledger l
WHERE l.inventory_sync_id = (SELECT max(y.inventory_sync_id) FROM ops.inventory_syncs y
                             WHERE y.account_id = :a AND y.status IN ('succeeded', 'partially_succeeded')
                               AND y.processed > 0)
  AND l.answer IN ('accepted', 'rejected', 'delivered')
LIMIT 1
