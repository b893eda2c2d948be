UPDATE core.stock_ledger
SET answer = 'no_answer', answered_at = now(),
    answer_message = 'the push was interrupted before the answer was recorded'
WHERE account_id = :a AND answer = 'pending'
