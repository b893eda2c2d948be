-- The channel's answers (staged in price_answers) onto the push's ledger rows; rows it did not mention
-- stay unanswered (sent again by the next delta push).
WITH answered AS (
    UPDATE core.price_ledger l
    SET answer = s.answer, answer_message = s.message, answered_at = now()
    FROM price_answers s
    WHERE l.price_sync_id = :s AND l.sku = s.sku
    RETURNING l.ledger_id
), unanswered AS (
    UPDATE core.price_ledger l
    SET answer = 'no_answer', answered_at = now(),
        answer_message = 'the channel did not mention this listing in its answer'
    WHERE l.price_sync_id = :s AND l.answer = 'pending'
      AND NOT EXISTS (SELECT 1 FROM price_answers s WHERE s.sku = l.sku)
    RETURNING l.ledger_id
)
SELECT (SELECT count(*) FROM answered) AS answered, (SELECT count(*) FROM unanswered) AS unanswered
