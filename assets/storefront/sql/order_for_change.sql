-- The order a status change is for, locked until the change commits (two changes of one order queue),
-- with the version of its document the canonical row was written from.
SELECT o.order_id, o.channel_state, r.payload
FROM core.orders o
LEFT JOIN LATERAL (
    SELECT r.payload FROM raw.channel_orders r
    WHERE r.account_id = o.account_id AND r.channel_order_id = o.channel_shipment_id
      AND r.payload_sha = o.source_payload_sha
    ORDER BY r.raw_id DESC LIMIT 1
) r ON true
WHERE o.account_id = :a AND o.channel_shipment_id = :number
FOR UPDATE OF o
