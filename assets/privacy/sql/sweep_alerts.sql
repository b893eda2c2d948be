UPDATE ops.alerts l SET message = ops.scrub_personal_text(l.message, k.known)
FROM forget_known k
WHERE (l.store_id = :store_id OR l.store_id IS NULL) AND ops.mentions_personal(l.message, k.known)
