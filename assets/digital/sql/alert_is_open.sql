SELECT 1 FROM ops.alerts WHERE source = :src AND closed_at IS NULL
