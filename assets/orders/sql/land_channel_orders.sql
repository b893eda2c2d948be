-- Land each order payload as received (Amazon, eBay, the storefront), of whichever accounts were staged; a
-- version already landed is not stored twice.
INSERT INTO raw.channel_orders (account_id, channel_order_id, payload, payload_sha, run_id)
SELECT account_id, shipment_id, payload, payload_sha, :run_id
FROM stage_raw
ORDER BY account_id, shipment_id
ON CONFLICT (account_id, channel_order_id, payload_sha) DO NOTHING
