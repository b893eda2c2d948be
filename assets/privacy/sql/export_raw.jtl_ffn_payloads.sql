SELECT jsonb_build_object('notification_id', r.external_id, 'fetched_at', r.fetched_at, 'payload', r.payload)
FROM raw.jtl_ffn_payloads r
JOIN core.fulfillment_shipments s ON s.account_id = r.account_id AND s.notification_id = r.external_id
JOIN core.fulfillment_outbounds fo
  ON fo.account_id = s.account_id AND fo.merchant_outbound_number = s.merchant_outbound_number
WHERE r.kind = 'shipping_notification' AND fo.order_id = ANY(CAST(:order_ids AS bigint[])) ORDER BY r.raw_id
