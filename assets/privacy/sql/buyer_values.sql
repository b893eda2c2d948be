SELECT coalesce(array_agg(DISTINCT v), '{}')
FROM unnest(CAST(:order_ids AS bigint[])) o(order_id), unnest(ops.personal_values(o.order_id)) v
