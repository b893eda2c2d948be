-- A feed import's rows that are no product of their own (the variant rows of a grouped feed, folded into
-- their group's product): counted beside rows_read, which counts products and quarantined records, so that
-- rows_read = rows_loaded + rows_unchanged + rows_quarantined still holds.
ALTER TABLE ops.import_runs ADD COLUMN rows_skipped bigint NOT NULL DEFAULT 0 CHECK (rows_skipped >= 0);
COMMENT ON COLUMN ops.import_runs.rows_skipped IS
    'Rows of the file that are no product of their own (passed over by the mapping''s skip rules, or a grouped feed''s rows folded into their group''s product); not part of rows_read.';
