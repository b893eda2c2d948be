UPDATE ops.outbound_queue q
SET payload = ops.scrub_personal_json(q.payload, k.known), response = ops.scrub_personal_json(q.response, k.known),
    last_error = ops.scrub_personal_text(q.last_error, k.known)
FROM forget_known k, ops.accounts a
WHERE a.store_id = :store_id AND q.account_id = a.account_id AND q.order_id IS NULL
  AND ops.mentions_personal(concat_ws(' ', q.payload::text, q.response::text, q.last_error), k.known)
