INSERT INTO ops.api_status (account_id, ok, detail, checked_at)
VALUES (:account_id, :ok, :detail, clock_timestamp())
ON CONFLICT (account_id) DO UPDATE SET ok = excluded.ok, detail = excluded.detail, checked_at = excluded.checked_at
RETURNING checked_at
