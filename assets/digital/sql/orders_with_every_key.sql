-- The store's orders whose every digital unit that wants a key has one, and at least one key is not
-- delivered yet.
SELECT du.order_id
FROM ops.digital_units du
WHERE du.store_id = :store_id
GROUP BY du.order_id
HAVING bool_and(du.digital_key_id IS NOT NULL) AND bool_or(du.delivered_at IS NULL)
ORDER BY du.order_id
