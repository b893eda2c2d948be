INSERT INTO ops.notification_routes (store_id, topic, via, recipient, min_severity, digest_minutes)
VALUES (:s, :t, :v, :r, :sev, :d)
ON CONFLICT (store_id, topic, via, recipient)
DO UPDATE SET min_severity = excluded.min_severity, digest_minutes = excluded.digest_minutes, enabled = true
RETURNING route_id
