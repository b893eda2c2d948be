-- A new alert for the condition, or one more occurrence of its open alert (also when a concurrent
-- transaction opened it meanwhile). Returns true when this opened it.
INSERT INTO ops.alerts (source, run_id, job_name, message, account_id, store_id, severity, condition_key)
VALUES (:s, :r, :j, :m, :a,
        coalesce(CAST(:st AS bigint), (SELECT store_id FROM ops.accounts WHERE account_id = :a)),
        :sev, :k)
ON CONFLICT (condition_key) WHERE closed_at IS NULL
DO UPDATE SET occurrences = ops.alerts.occurrences + 1, last_seen_at = now(), message = excluded.message,
              run_id = coalesce(excluded.run_id, ops.alerts.run_id),
              job_name = coalesce(excluded.job_name, ops.alerts.job_name),
              severity = excluded.severity
RETURNING xmax = 0 AS opened
