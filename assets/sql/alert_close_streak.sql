UPDATE ops.alerts SET closed_at = now()
WHERE source = :s AND account_id = :a AND closed_at IS NULL
