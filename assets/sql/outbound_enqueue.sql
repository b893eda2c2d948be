-- A request already queued (the same idempotency key) is left as it is: no row comes back.
INSERT INTO ops.outbound_queue
    (account_id, order_id, operation, payload, idempotency_key, max_attempts, triggered_by)
VALUES (:a, :o, :op, CAST(:p AS jsonb), :k, :m, :t)
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING outbound_id
