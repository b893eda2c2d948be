-- Shipment payloads that never became an order (each is quarantined as unreadable), by the buyer's values.
UPDATE raw.letzshop_shipments r SET payload = ops.scrub_personal_json(r.payload, k.known)
FROM forget_known k, ops.accounts a, ops.quarantine q
WHERE a.store_id = :store_id AND q.account_id = a.account_id AND r.account_id = q.account_id
  AND r.shipment_id = q.record_ref AND ops.mentions_personal(r.payload::text, k.known)
