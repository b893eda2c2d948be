UPDATE ops.sync_log
SET records_processed = :p, records_succeeded = :s, records_failed = :f,
    errors = CAST(:e AS jsonb), failed = :failed,
    completed_at = CASE WHEN :done THEN clock_timestamp() ELSE completed_at END
WHERE sync_id = :id
