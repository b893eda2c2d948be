-- The store's purchases with a step due now, oldest first.
SELECT purchase_id FROM ops.digital_purchases
WHERE store_id = :store_id AND status IN ('intent', 'sent', 'outcome_unknown', 'fulfilling', 'waiting')
  AND next_check_at <= now()
ORDER BY next_check_at, purchase_id
LIMIT :limit
