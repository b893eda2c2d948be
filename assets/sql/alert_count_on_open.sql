-- Another failure of an account whose alert is open: counted on that alert.
UPDATE ops.alerts
SET occurrences = occurrences + 1, last_seen_at = now(), message = :m, run_id = :r, job_name = :j
WHERE source = :s AND account_id = :a AND closed_at IS NULL
