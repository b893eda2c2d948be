-- Every version of these orders ([{"account_id", "number"}]) their accounts ever received (a re-sent
-- order is recognised by any of them, also after its status changed), with the canonical order it became.
SELECT r.account_id, r.channel_order_id, r.payload_sha, o.order_id
FROM json_to_recordset(CAST(:orders AS json)) AS w(account_id bigint, number text)
JOIN raw.channel_orders r ON r.account_id = w.account_id AND r.channel_order_id = w.number
LEFT JOIN core.orders o ON o.account_id = w.account_id AND o.channel_shipment_id = w.number
