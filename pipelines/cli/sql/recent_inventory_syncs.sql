-- `marketsync stock log`: a store's newest stock pushes, to one channel when given.
SELECT inventory_sync_id AS id, channel, mode, status, listings, processed, succeeded, failed,
       unanswered, errors, triggered_by, started_at, round(duration_s::numeric, 2) AS seconds
FROM analytics.inventory_syncs WHERE store = :s AND (CAST(:c AS text) IS NULL OR channel = :c)
ORDER BY inventory_sync_id DESC LIMIT :n
