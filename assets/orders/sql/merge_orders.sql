-- Upsert the canonical orders of the staged page, for any channel (each row's account says which). Local decisions (sync status,
-- tracking we set) survive a re-import; the channel's state is taken as the channel reports it, and
-- what it means (core.order_status_map) moves our sync status only forward: a channel that confirmed,
-- declined or shipped the order on its own side is followed.
INSERT INTO core.orders AS o (
    store_id, account_id, channel, channel_order_id, channel_shipment_id, order_number, shipment_number,
    customer_email, customer_name, customer_locale, total, currency, channel_state, sync_status, ordered_at,
    tracking_number, tracking_carrier, shipped_at, source_payload_sha)
SELECT a.store_id, s.account_id, a.channel, s.channel_order_id, s.channel_shipment_id, s.order_number,
       s.shipment_number, s.customer_email, s.customer_name, s.customer_locale, s.total, s.currency,
       s.channel_state,
       CASE WHEN m.status IN ('confirmed', 'processing') THEN 'confirmed'
            WHEN m.status IN ('shipped', 'delivered') THEN 'shipped'
            WHEN m.status IN ('cancelled', 'refunded') THEN 'rejected' ELSE 'imported' END,
       s.ordered_at, s.tracking_number, s.tracking_carrier,
       CASE WHEN m.status IN ('shipped', 'delivered') THEN now() END, s.source_payload_sha
FROM stage_orders s
JOIN ops.accounts a ON a.account_id = s.account_id
LEFT JOIN core.order_status_map m ON m.channel = a.channel AND m.channel_state = s.channel_state
ORDER BY s.account_id, s.channel_shipment_id
ON CONFLICT (account_id, channel_shipment_id) DO UPDATE SET
    order_number      = excluded.order_number,
    shipment_number   = excluded.shipment_number,
    customer_email    = excluded.customer_email,
    customer_name     = excluded.customer_name,
    customer_locale   = excluded.customer_locale,
    total             = excluded.total,
    channel_state     = excluded.channel_state,
    -- excluded.status is the proposed row's status as the order_status trigger set it.
    sync_status       = CASE
        WHEN excluded.status IN ('confirmed', 'processing') AND o.sync_status IN ('imported', 'confirming') THEN 'confirmed'
        WHEN excluded.status = 'cancelled' AND o.sync_status IN ('imported', 'rejecting') THEN 'rejected'
        WHEN excluded.status IN ('shipped', 'delivered') AND o.sync_status IN ('imported', 'confirming', 'confirmed')
            THEN 'shipped'
        ELSE o.sync_status END,
    shipped_at        = CASE WHEN excluded.status IN ('shipped', 'delivered') THEN coalesce(o.shipped_at, now())
                             ELSE o.shipped_at END,
    ordered_at        = excluded.ordered_at,
    tracking_number   = coalesce(o.tracking_number, excluded.tracking_number),
    tracking_carrier  = coalesce(o.tracking_carrier, excluded.tracking_carrier),
    source_payload_sha = excluded.source_payload_sha,
    updated_at        = now()
WHERE o.source_payload_sha IS DISTINCT FROM excluded.source_payload_sha
RETURNING (xmax = 0) AS inserted;
