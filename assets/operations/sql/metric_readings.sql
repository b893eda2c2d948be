SELECT store_id, store, integration, metric, label, unit, direction, value, warn_at, error_at, state,
       condition_key, account_id, source_id
FROM ops.metric_readings
WHERE (CAST(:store AS text) IS NULL OR store = :store)
  AND (CAST(:states AS text[]) IS NULL OR state = ANY(:states))
ORDER BY store, integration, metric
