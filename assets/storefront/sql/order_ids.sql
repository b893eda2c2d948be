SELECT o.account_id, o.channel_shipment_id, o.order_id
FROM unnest(CAST(:accounts AS bigint[]), CAST(:numbers AS text[])) AS w(account_id, number)
JOIN core.orders o ON o.account_id = w.account_id AND o.channel_shipment_id = w.number
