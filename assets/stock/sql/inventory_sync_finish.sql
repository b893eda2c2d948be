UPDATE ops.inventory_syncs
SET status = :st, processed = :p, succeeded = :ok, failed = :bad, unanswered = :un,
    errors = CAST(:errors AS jsonb), delivered_to = :to, finished_at = clock_timestamp()
WHERE inventory_sync_id = :s
