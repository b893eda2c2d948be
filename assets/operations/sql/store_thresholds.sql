SELECT d.metric, d.label, d.unit, d.direction,
       CASE WHEN o.metric IS NULL THEN d.warn_at ELSE o.warn_at END AS warn_at,
       CASE WHEN o.metric IS NULL THEN d.error_at ELSE o.error_at END AS error_at,
       o.metric IS NOT NULL AS own
FROM ops.metric_definitions d
LEFT JOIN ops.metric_thresholds o ON o.metric = d.metric AND o.store_id = :s
ORDER BY d.metric
