-- An erasure that was told to go ahead: the writes still queued for the orders will not be sent.
UPDATE ops.outbound_queue
SET status = 'dead', last_error = 'cancelled: the buyer''s personal data was erased', updated_at = now()
WHERE order_id = ANY(CAST(:order_ids AS bigint[])) AND status IN ('pending', 'in_flight')
