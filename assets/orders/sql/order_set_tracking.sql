UPDATE core.orders
SET tracking_number = :n, tracking_carrier = :c, tracking_url = coalesce(:u, tracking_url), updated_at = now()
WHERE order_id = :o
