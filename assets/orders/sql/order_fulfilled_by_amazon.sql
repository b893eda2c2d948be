SELECT EXISTS (SELECT 1 FROM core.order_items WHERE order_id = :o AND channel_state = 'FULFILLED_BY_AMAZON')
