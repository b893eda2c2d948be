-- `marketsync catalog runs`: the newest catalog imports, of one store when given.
SELECT import_run_id, store, source, status, rows_read, rows_loaded, rows_unchanged,
       rows_quarantined, started_at, round(seconds::numeric, 2) AS seconds
FROM analytics.import_runs WHERE CAST(:s AS text) IS NULL OR store = :s
ORDER BY import_run_id DESC LIMIT :n
