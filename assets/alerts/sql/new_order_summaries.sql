-- What a new-order notice says: the order's number, channel, total, and its lines; nothing of the buyer.
SELECT o.order_id, o.channel, o.order_number, o.total::text AS total, o.currency,
       to_char(o.ordered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS ordered_at,
       coalesce((SELECT jsonb_agg(jsonb_build_object('sku', i.sku, 'title', i.title, 'quantity', i.quantity)
                                  ORDER BY i.order_item_id)
                 FROM core.order_items i WHERE i.order_id = o.order_id), '[]'::jsonb) AS lines
FROM core.orders o
WHERE o.order_id = ANY(:ids)
  -- An account's first import brings its history: only orders placed recently are news to anyone.
  AND (o.ordered_at IS NULL OR o.ordered_at > now() - make_interval(secs => :max_age_hours * 3600))
ORDER BY o.order_id
