-- Move an import run to its next status, only from a status it may come from (a finished run stays
-- finished). Counts are written with every transition so the UI follows the run.
UPDATE ops.import_runs SET
    status           = :status,
    rows_read        = :rows_read,
    rows_loaded      = :rows_loaded,
    rows_unchanged   = :rows_unchanged,
    rows_quarantined = :rows_quarantined,
    rows_skipped     = :rows_skipped,
    bytes_read       = :bytes_read,
    error            = coalesce(:error, error),
    finished_at      = CASE WHEN :final THEN now() END
WHERE import_run_id = :import_run_id
  AND status = ANY(CAST(:allowed_from AS text[]))
RETURNING status
