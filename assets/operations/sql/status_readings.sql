-- Every metric now (of one store when given), for the status page and /metrics: ops.metric_readings as
-- plain values (floats, no ordering: the callers group them).
SELECT store_id, store, integration, metric, label, unit, direction, value, warn_at, error_at, state,
       condition_key, account_id, source_id
FROM ops.metric_readings
WHERE CAST(:store_id AS bigint) IS NULL OR store_id = :store_id
