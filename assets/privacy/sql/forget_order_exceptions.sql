UPDATE ops.order_exceptions e SET details = ops.scrub_personal_json(e.details, f.known)
FROM forget_orders f
WHERE e.order_id = f.order_id
