-- The notices due now, per condition: opened (an alert open, no episode running), escalated (its alert
-- turned from warn to error during the episode, unacknowledged), resolved (the episode's condition has no
-- open alert and its last one closed at least :damping seconds ago).
WITH latest AS (
    SELECT DISTINCT ON (condition_key) condition_key, event, severity
    FROM ops.alert_notices
    ORDER BY condition_key, notice_id DESC
), due AS (
    SELECT al.alert_id, al.condition_key,
           CASE WHEN l.event IS NULL OR l.event = 'resolved' THEN 'opened' ELSE 'escalated' END AS event,
           al.severity
    FROM ops.alerts al
    LEFT JOIN latest l ON l.condition_key = al.condition_key
    WHERE al.closed_at IS NULL
      AND (l.event IS NULL OR l.event = 'resolved'
           OR (al.severity = 'error' AND l.severity = 'warn' AND al.acked_at IS NULL))
    UNION ALL
    SELECT last.alert_id, l.condition_key, 'resolved', l.severity
    FROM latest l
    CROSS JOIN LATERAL (SELECT alert_id, closed_at FROM ops.alerts x
                        WHERE x.condition_key = l.condition_key
                        ORDER BY x.alert_id DESC LIMIT 1) last
    WHERE l.event IN ('opened', 'escalated')
      AND last.closed_at IS NOT NULL AND last.closed_at <= now() - make_interval(secs => :damping)
)
SELECT d.alert_id, d.condition_key, d.event, d.severity, al.store_id, s.code AS store, a.channel, al.source,
       al.message, al.created_at, al.closed_at
FROM due d
JOIN ops.alerts al ON al.alert_id = d.alert_id
LEFT JOIN ops.stores s ON s.store_id = al.store_id
LEFT JOIN ops.accounts a ON a.account_id = al.account_id
ORDER BY d.alert_id
