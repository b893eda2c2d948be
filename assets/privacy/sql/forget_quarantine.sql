-- A quarantined copy of the order's payload (the channel sent it in a shape we could not read).
UPDATE ops.quarantine q
SET raw_text = ops.scrub_personal_record(q.raw_text, f.known),
    reason = ops.scrub_personal_text(q.reason, f.known)
FROM forget_orders f
WHERE q.account_id = f.account_id AND q.record_ref IN (f.channel_order_id, f.channel_shipment_id)
