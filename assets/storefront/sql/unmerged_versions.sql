-- The newest version of each order the account's shop sent in the last :hours hours that its canonical
-- order does not hold (normally none: the API merges what it lands in the same transaction; a version
-- is left here only by a canonical row removed or a merge that changed since).
SELECT r.channel_order_id, r.payload, r.payload_sha
FROM (SELECT DISTINCT ON (channel_order_id) channel_order_id, payload, payload_sha
      FROM raw.channel_orders
      WHERE account_id = :a AND received_at > now() - make_interval(hours => :hours)
      ORDER BY channel_order_id, raw_id DESC) r
LEFT JOIN core.orders o ON o.account_id = :a AND o.channel_shipment_id = r.channel_order_id
WHERE o.source_payload_sha IS DISTINCT FROM r.payload_sha
