SELECT s.code, i.check_cron, i.check_timezone
FROM ops.inbound_sheets i JOIN ops.stores s USING (store_id)
WHERE i.enabled
ORDER BY s.code
