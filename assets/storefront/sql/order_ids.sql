-- The canonical ids of these orders ([{"account_id", "number"}]).
SELECT o.account_id, o.channel_shipment_id, o.order_id
FROM json_to_recordset(CAST(:orders AS json)) AS w(account_id bigint, number text)
JOIN core.orders o ON o.account_id = w.account_id AND o.channel_shipment_id = w.number
