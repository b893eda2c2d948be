-- The product's pool is refilled: its low-pool alert is over.
UPDATE ops.alerts SET closed_at = now() WHERE source = :src AND closed_at IS NULL
