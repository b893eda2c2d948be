-- The country stays (analysts count orders by country); everything that locates the person goes.
UPDATE core.order_addresses a
SET first_name = NULL, last_name = NULL, company = NULL, street_name = NULL, street_number = NULL,
    zip_code = NULL, city = NULL, phone = NULL
FROM forget_orders f
WHERE a.order_id = f.order_id
