-- The condition is over (a refilled pool, a topped-up balance): its alert closes.
UPDATE ops.alerts SET closed_at = now() WHERE source = :src AND closed_at IS NULL
