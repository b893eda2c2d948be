INSERT INTO ops.price_rules (account_id, enabled, markup_percent, fixed_add, rounding, floor_price, ceiling_price,
                             currency, delivery)
VALUES (:a, :enabled, :markup, :fixed, :rounding, :floor, :ceiling, :currency, CAST(:delivery AS jsonb))
ON CONFLICT (account_id) DO UPDATE SET
    enabled = excluded.enabled, markup_percent = excluded.markup_percent, fixed_add = excluded.fixed_add,
    rounding = excluded.rounding, floor_price = excluded.floor_price, ceiling_price = excluded.ceiling_price,
    currency = excluded.currency, delivery = excluded.delivery, updated_at = now()
