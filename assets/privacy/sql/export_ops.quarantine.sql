-- Copies of the buyer's order payloads that could not be read, and any record of the store that quotes
-- the buyer (filtered to the buyer's part by the caller).
SELECT jsonb_build_object('source', q.source, 'record_ref', q.record_ref, 'reason', q.reason,
                          'created_at', q.created_at, 'record', q.raw_text,
                          'whole', q.record_ref IN (SELECT o.channel_shipment_id FROM core.orders o
                                                    WHERE o.order_id = ANY(CAST(:order_ids AS bigint[]))
                                                      AND o.account_id = q.account_id))
FROM ops.quarantine q
JOIN ops.accounts a ON a.account_id = q.account_id
WHERE a.store_id = :store_id
  AND (ops.mentions_personal(q.raw_text, CAST(:known AS text[]))
       OR q.record_ref IN (SELECT o.channel_shipment_id FROM core.orders o
                           WHERE o.order_id = ANY(CAST(:order_ids AS bigint[])) AND o.account_id = q.account_id))
ORDER BY q.quarantine_id
