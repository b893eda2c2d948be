-- A push that died between delivering and recording left 'pending' rows and a 'running' sync: its answer
-- is lost, so those listings stay unacknowledged and the next delta push sends them again.
WITH ledger AS (
    UPDATE core.price_ledger
    SET answer = 'no_answer', answered_at = now(),
        answer_message = 'the push was interrupted before the answer was recorded'
    WHERE account_id = :a AND answer = 'pending'
)
UPDATE ops.price_syncs
SET status = 'failed', finished_at = now(), errors = errors || '["interrupted"]'::jsonb
WHERE account_id = :a AND status = 'running'
