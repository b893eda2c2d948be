SELECT jsonb_build_object('order_id', q.order_id, 'operation', q.operation, 'status', q.status,
                          'payload', q.payload, 'response', q.response, 'created_at', q.created_at,
                          'completed_at', q.completed_at)
FROM ops.outbound_queue q WHERE q.order_id = ANY(CAST(:order_ids AS bigint[])) ORDER BY q.outbound_id
