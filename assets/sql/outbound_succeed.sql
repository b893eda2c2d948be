-- Every write after the claim is fenced on (status, attempts): if our lease was lost and the item
-- claimed again, this worker's late answer must not overwrite the newer attempt's state.
UPDATE ops.outbound_queue
SET status = 'succeeded', response = CAST(:response AS jsonb),
    completed_at = coalesce(CAST(:now AS timestamptz), clock_timestamp()), lease_expires_at = NULL,
    last_error = NULL, updated_at = coalesce(CAST(:now AS timestamptz), clock_timestamp())
WHERE outbound_id = :id AND status = 'in_flight' AND attempts = :attempt
