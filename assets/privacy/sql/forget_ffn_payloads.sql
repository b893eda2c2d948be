UPDATE raw.jtl_ffn_payloads r SET payload = ops.scrub_personal_json(r.payload, f.known)
FROM forget_orders f
JOIN core.fulfillment_outbounds fo ON fo.order_id = f.order_id
JOIN core.fulfillment_shipments s
  ON s.account_id = fo.account_id AND s.merchant_outbound_number = fo.merchant_outbound_number
WHERE r.account_id = s.account_id AND r.kind = 'shipping_notification' AND r.external_id = s.notification_id
