-- A new alert; if a concurrent failure of the same account opened one meanwhile, counted on that one.
INSERT INTO ops.alerts (source, run_id, job_name, message, account_id)
VALUES (:s, :r, :j, :m, :a)
ON CONFLICT (source, account_id) WHERE closed_at IS NULL AND account_id IS NOT NULL
DO UPDATE SET occurrences = ops.alerts.occurrences + 1, last_seen_at = now(),
              message = excluded.message, run_id = excluded.run_id
