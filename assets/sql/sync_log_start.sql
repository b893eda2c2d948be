INSERT INTO ops.sync_log (account_id, operation, direction, triggered_by, run_id, started_at)
VALUES (:a, :op, :d, :t, :r, clock_timestamp())
RETURNING sync_id
