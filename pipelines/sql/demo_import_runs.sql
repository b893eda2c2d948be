-- The last import of each catalog source of store :c.
SELECT DISTINCT ON (source) source, status, rows_read, rows_loaded, rows_unchanged, rows_quarantined
FROM analytics.import_runs
WHERE store = :c
ORDER BY source, import_run_id DESC
