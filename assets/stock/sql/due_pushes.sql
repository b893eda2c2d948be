-- Every store channel that pushes stock on its own (real-time or batch), with its last pushes and the
-- newest change to its store that its last good push did not see (visible in no snapshot of it).
SELECT st.account_id, s.code AS store, a.channel, st.strategy, st.batch_interval_minutes,
       ok.inventory_sync_id AS last_ok_id,
       latest.inventory_sync_id AS latest_id, latest.status AS latest_status, latest.started_at AS latest_started_at,
       (SELECT max(c.change_id) FROM ops.stock_changes c
        WHERE c.store_id = a.store_id
          AND (ok.snapshot IS NULL
               OR (c.xid >= pg_snapshot_xmin(ok.snapshot) AND NOT pg_visible_in_snapshot(c.xid, ok.snapshot))))
           AS unseen_change
FROM ops.stock_settings st
JOIN ops.accounts a ON a.account_id = st.account_id
JOIN ops.stores s ON s.store_id = a.store_id
LEFT JOIN LATERAL (SELECT y.inventory_sync_id, y.snapshot FROM ops.inventory_syncs y
                   WHERE y.account_id = st.account_id AND y.status IN ('succeeded', 'partially_succeeded')
                   ORDER BY y.inventory_sync_id DESC LIMIT 1) ok ON true
LEFT JOIN LATERAL (SELECT y.inventory_sync_id, y.status, y.started_at FROM ops.inventory_syncs y
                   WHERE y.account_id = st.account_id
                   ORDER BY y.inventory_sync_id DESC LIMIT 1) latest ON true
WHERE st.enabled AND a.enabled AND st.strategy <> 'manual'
ORDER BY s.code, a.channel
