-- Every version of these orders the account ever received (a re-sent order is recognised by any of
-- them, also after its status changed), with the canonical order it became.
SELECT r.channel_order_id, r.payload_sha, o.order_id
FROM raw.channel_orders r
LEFT JOIN core.orders o ON o.account_id = r.account_id AND o.channel_shipment_id = r.channel_order_id
WHERE r.account_id = :a AND r.channel_order_id = ANY(:numbers)
