INSERT INTO ops.alert_notices (condition_key, alert_id, event, severity)
VALUES (:k, :a, :e, :sev)
RETURNING notice_id
