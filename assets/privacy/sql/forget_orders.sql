-- The order keeps its ids, dates, amounts, state and items; updated_at stays the order's last change.
UPDATE core.orders o
SET customer_email = NULL, customer_name = NULL,
    personal_data_removed_at = coalesce(o.personal_data_removed_at, now()),
    personal_data_removed_by = coalesce(o.personal_data_removed_by, CAST(:reason AS text))
FROM forget_orders f
WHERE o.order_id = f.order_id
