-- Forget changes every stock channel of the store has seen (older than the oldest of their last
-- snapshots). A channel that never pushed keeps them all.
DELETE FROM ops.stock_changes c
WHERE c.store_id = :store_id
  AND c.xid < (
      SELECT min(pg_snapshot_xmin(last.snapshot))
      FROM ops.stock_settings st
      JOIN ops.accounts a ON a.account_id = st.account_id AND a.store_id = :store_id
      LEFT JOIN LATERAL (SELECT y.snapshot FROM ops.inventory_syncs y
                         WHERE y.account_id = st.account_id AND y.status <> 'failed' AND y.snapshot IS NOT NULL
                         ORDER BY y.inventory_sync_id DESC LIMIT 1) last ON true
      WHERE st.enabled
      HAVING bool_and(last.snapshot IS NOT NULL))
