-- The channel's answers (staged in stock_answers) onto the push's ledger rows; rows it did not mention
-- stay unanswered. Accepted and delivered numbers become what the channel acknowledged.
WITH answered AS (
    UPDATE core.stock_ledger l
    SET answer = s.answer, answer_message = s.message, answered_at = now()
    FROM stock_answers s
    WHERE l.inventory_sync_id = :sync_id AND l.sku = s.sku
    RETURNING l.ledger_id
), unanswered AS (
    UPDATE core.stock_ledger l
    SET answer = 'no_answer', answered_at = now(),
        answer_message = 'the channel did not mention this listing in its answer'
    WHERE l.inventory_sync_id = :sync_id AND l.answer = 'pending'
      AND NOT EXISTS (SELECT 1 FROM stock_answers s WHERE s.sku = l.sku)
    RETURNING l.ledger_id
)
SELECT (SELECT count(*) FROM answered) AS answered, (SELECT count(*) FROM unanswered) AS unanswered;
