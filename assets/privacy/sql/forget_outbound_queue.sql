UPDATE ops.outbound_queue q
SET payload = ops.scrub_personal_json(q.payload, f.known),
    response = ops.scrub_personal_json(q.response, f.known),
    last_error = ops.scrub_personal_text(q.last_error, f.known)
FROM forget_orders f
WHERE q.order_id = f.order_id
