-- The outbounds sent to the warehouse, in the order they were sent, with the id it gave each.
SELECT q.payload, f.outbound_id
FROM ops.outbound_queue q
LEFT JOIN core.fulfillment_outbounds f
       ON f.account_id = q.account_id AND f.merchant_outbound_number = q.payload ->> 'merchantOutboundNumber'
WHERE q.account_id = :a AND q.operation = :op AND q.status = 'succeeded'
ORDER BY q.outbound_id
