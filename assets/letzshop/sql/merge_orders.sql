-- Upsert the canonical orders of the staged shipments. Local decisions (sync status, tracking we set)
-- survive a re-import; the channel's state is taken as the channel reports it.
INSERT INTO core.orders AS o (
    store_id, account_id, channel, channel_order_id, channel_shipment_id, order_number, shipment_number,
    customer_email, customer_name, customer_locale, total, currency, channel_state, sync_status, ordered_at,
    tracking_number, tracking_carrier, source_payload_sha)
SELECT :store_id, :account_id, 'letzshop', s.channel_order_id, s.channel_shipment_id, s.order_number,
       s.shipment_number, s.customer_email, s.customer_name, s.customer_locale, s.total, s.currency,
       s.channel_state,
       CASE s.channel_state WHEN 'confirmed' THEN 'confirmed' WHEN 'declined' THEN 'rejected' ELSE 'imported' END,
       s.ordered_at, s.tracking_number, s.tracking_carrier, s.source_payload_sha
FROM stage_orders s
ORDER BY s.channel_shipment_id
ON CONFLICT (account_id, channel_shipment_id) DO UPDATE SET
    order_number      = excluded.order_number,
    shipment_number   = excluded.shipment_number,
    customer_email    = excluded.customer_email,
    customer_name     = excluded.customer_name,
    customer_locale   = excluded.customer_locale,
    total             = excluded.total,
    channel_state     = excluded.channel_state,
    sync_status       = CASE
        WHEN o.sync_status IN ('imported', 'confirming') AND excluded.channel_state = 'confirmed' THEN 'confirmed'
        WHEN o.sync_status IN ('imported', 'rejecting') AND excluded.channel_state = 'declined' THEN 'rejected'
        ELSE o.sync_status END,
    ordered_at        = excluded.ordered_at,
    tracking_number   = coalesce(o.tracking_number, excluded.tracking_number),
    tracking_carrier  = coalesce(o.tracking_carrier, excluded.tracking_carrier),
    source_payload_sha = excluded.source_payload_sha,
    updated_at        = now()
WHERE o.source_payload_sha IS DISTINCT FROM excluded.source_payload_sha
RETURNING (xmax = 0) AS inserted;
