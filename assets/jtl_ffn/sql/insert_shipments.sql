-- Shipping notifications not seen before (a notification never changes once the warehouse sent it).
INSERT INTO core.fulfillment_shipments (account_id, notification_id, merchant_outbound_number, carrier,
                                        tracking_number, tracking_url, shipped_at, items)
SELECT DISTINCT ON (notification_id) :account_id, notification_id, merchant_outbound_number, carrier, tracking_number,
       tracking_url, shipped_at, CAST(items AS jsonb)
FROM ffn_shipments ORDER BY notification_id
ON CONFLICT (account_id, notification_id) DO NOTHING
