SELECT r.route_id, r.store_id, s.code AS store, r.topic, r.via, r.recipient, r.min_severity, r.digest_minutes,
       r.enabled, a.account_id
FROM ops.notification_routes r
JOIN ops.stores s ON s.store_id = r.store_id
LEFT JOIN ops.accounts a ON a.store_id = r.store_id AND a.enabled
                        AND a.channel = CASE r.via WHEN 'email' THEN 'email' ELSE 'webhook' END
WHERE (CAST(:store AS text) IS NULL OR s.code = :store)
  AND (CAST(:store_id AS bigint) IS NULL OR r.store_id = :store_id)
  AND (CAST(:topic AS text) IS NULL OR r.topic = :topic)
ORDER BY s.code, r.topic, r.via, r.recipient
