-- The store's purchases waiting because the supplier balance was short, and what they would cost at the
-- price list's price.
SELECT count(*) AS n, coalesce(sum(listed_unit_price), 0) AS amount
FROM ops.digital_purchases
WHERE store_id = :store_id AND status = 'waiting' AND reason LIKE :prefix
