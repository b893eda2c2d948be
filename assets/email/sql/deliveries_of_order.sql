-- The key deliveries queued for an order: how many, and the one still to go out (if any).
SELECT count(*) AS queued,
       min(outbound_id) FILTER (WHERE status IN ('pending', 'in_flight')) AS open_id
FROM ops.outbound_queue
WHERE account_id = :a AND operation = :op AND order_id = :o
