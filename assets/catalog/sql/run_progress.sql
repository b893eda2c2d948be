-- How far a running import has got (rows read, bytes read, quarantined so far); status unchanged.
UPDATE ops.import_runs SET rows_read = :rows_read, rows_quarantined = :rows_quarantined, bytes_read = :bytes_read
WHERE import_run_id = :import_run_id AND status IN ('downloading', 'parsing', 'upserting')
