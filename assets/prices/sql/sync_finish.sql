UPDATE ops.price_syncs
SET status = :st, listings = :l, processed = :p, succeeded = :ok, failed = :bad, unanswered = :un,
    errors = CAST(:errors AS jsonb), delivered_to = :to, finished_at = clock_timestamp()
WHERE price_sync_id = :s
