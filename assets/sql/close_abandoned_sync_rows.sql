-- Close the sync-log rows of runs that ended without completing them (killed, crashed): they would
-- otherwise show "running" forever. What they counted before dying stays.
UPDATE ops.sync_log
SET completed_at = clock_timestamp(),
    errors = errors || to_jsonb(CAST(:reason AS text)),
    failed = true
WHERE run_id = ANY(:run_ids) AND completed_at IS NULL
RETURNING sync_id
