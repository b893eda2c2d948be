-- The delivery failed: every row of the push still waiting for an answer gets the failure as its answer.
UPDATE core.price_ledger SET answer = 'failed', answer_message = :e, answered_at = now()
WHERE price_sync_id = :s AND answer = 'pending'
