-- Whom a delivery goes to: the order's buyer, named from the order or else its billing or shipping address.
SELECT o.order_id, o.order_number, o.customer_email, s.code AS store,
       COALESCE(NULLIF(btrim(o.customer_name), ''),
                NULLIF(btrim(concat_ws(' ', b.first_name, b.last_name)), ''),
                NULLIF(btrim(concat_ws(' ', sh.first_name, sh.last_name)), '')) AS customer_name
FROM core.orders o
JOIN ops.stores s ON s.store_id = o.store_id
LEFT JOIN core.order_addresses b ON b.order_id = o.order_id AND b.kind = 'billing'
LEFT JOIN core.order_addresses sh ON sh.order_id = o.order_id AND sh.kind = 'shipping'
WHERE o.order_id = :o
