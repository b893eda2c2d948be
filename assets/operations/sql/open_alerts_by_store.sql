-- Open alerts per store and severity, 0 where a store has none (ops.alerts_store_open).
SELECT s.code AS store, v.severity, count(al.alert_id) AS alerts
FROM ops.stores s
CROSS JOIN (VALUES ('warn'), ('error')) AS v (severity)
LEFT JOIN ops.alerts al ON al.store_id = s.store_id AND al.severity = v.severity AND al.closed_at IS NULL
WHERE CAST(:store_id AS bigint) IS NULL OR s.store_id = :store_id
GROUP BY s.code, v.severity
ORDER BY s.code, v.severity
