-- Keys sent to the buyer: when first delivered, and how (a re-send keeps the first delivery's time).
UPDATE ops.digital_keys
SET delivered_at = COALESCE(delivered_at, now()),
    delivered_via = :via
WHERE digital_key_id = ANY(:ids)
