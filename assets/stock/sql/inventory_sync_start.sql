INSERT INTO ops.inventory_syncs (account_id, mode, triggered_by, run_id)
VALUES (:a, :m, :t, :r)
RETURNING inventory_sync_id
