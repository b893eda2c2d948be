-- The open alerts of one source become exactly the conditions given: each is opened or refreshed, every
-- other open alert of the source is closed.
WITH holding AS (
    SELECT * FROM unnest(CAST(:keys AS text[]), CAST(:messages AS text[]), CAST(:severities AS text[]),
                         CAST(:stores AS bigint[]), CAST(:accounts AS bigint[]))
        AS h (condition_key, message, severity, store_id, account_id)
), kept AS (
    INSERT INTO ops.alerts (source, message, severity, store_id, account_id, condition_key)
    SELECT :source, message, severity, store_id, account_id, condition_key FROM holding
    ON CONFLICT (condition_key) WHERE closed_at IS NULL
    DO UPDATE SET occurrences = ops.alerts.occurrences + 1, last_seen_at = now(), message = excluded.message,
                  severity = excluded.severity
    RETURNING xmax = 0 AS opened
), closed AS (
    UPDATE ops.alerts SET closed_at = now()
    WHERE source = :source AND closed_at IS NULL
      AND condition_key NOT IN (SELECT condition_key FROM holding)
    RETURNING alert_id
)
SELECT (SELECT count(*) FROM kept WHERE opened) AS opened, (SELECT count(*) FROM closed) AS closed
