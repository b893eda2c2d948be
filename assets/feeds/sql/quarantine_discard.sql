-- The bad rows of one import run, forgotten: its parallel attempt was set aside and the rerun in one
-- process reports them again.
DELETE FROM ops.quarantine WHERE import_run_id = :import_run_id
