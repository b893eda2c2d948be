-- The demo does not sit out the poll's backoff: the store's purchases waiting for codes are due now.
UPDATE ops.digital_purchases SET next_check_at = now()
WHERE store_id = :s AND status = 'fulfilling'
