INSERT INTO ops.metric_thresholds (store_id, metric, warn_at, error_at)
VALUES (:s, :m, :w, :e)
ON CONFLICT (store_id, metric) DO UPDATE SET warn_at = excluded.warn_at, error_at = excluded.error_at,
                                             updated_at = now()
