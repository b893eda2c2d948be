INSERT INTO core.stock_listing_rules (account_id, product_id, quantity_override, max_quantity, listed, note)
VALUES (:a, :p, :o, :m, :l, :n)
ON CONFLICT (account_id, product_id) DO UPDATE SET
    quantity_override = excluded.quantity_override, max_quantity = excluded.max_quantity, listed = excluded.listed,
    note = coalesce(excluded.note, core.stock_listing_rules.note), updated_at = now()
