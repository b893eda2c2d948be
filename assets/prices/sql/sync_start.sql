INSERT INTO ops.price_syncs (account_id, mode, triggered_by, run_id)
VALUES (:a, :m, :t, :r)
RETURNING price_sync_id
