-- A digest write: queued due at :due with the payload, or, when queued already and not yet tried, its
-- list :f extended with the payload's. No row comes back when it is on its way or done.
INSERT INTO ops.outbound_queue
    (account_id, operation, payload, idempotency_key, next_attempt_at, triggered_by)
VALUES (:a, :op, CAST(:p AS jsonb), :k, :due, :t)
ON CONFLICT (idempotency_key) DO UPDATE
SET payload = jsonb_set(ops.outbound_queue.payload, ARRAY[CAST(:f AS text)],
                        (ops.outbound_queue.payload -> CAST(:f AS text)) || (excluded.payload -> CAST(:f AS text))),
    updated_at = now()
WHERE ops.outbound_queue.status = 'pending' AND ops.outbound_queue.attempts = 0
RETURNING outbound_id
