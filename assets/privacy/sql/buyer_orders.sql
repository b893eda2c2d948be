-- A buyer's orders in one store, by e-mail address (any case), with what is still queued for them.
SELECT o.order_id, o.order_number, o.channel,
       count(q.outbound_id) FILTER (WHERE q.status IN ('pending', 'in_flight')) AS writes_queued
FROM core.orders o
LEFT JOIN ops.outbound_queue q ON q.order_id = o.order_id
WHERE o.store_id = :store_id AND lower(o.customer_email) = lower(:email)
GROUP BY o.order_id
ORDER BY o.order_id
