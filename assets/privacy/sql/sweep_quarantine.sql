UPDATE ops.quarantine q
SET raw_text = ops.scrub_personal_record(q.raw_text, k.known), reason = ops.scrub_personal_text(q.reason, k.known)
FROM forget_known k, ops.accounts a
WHERE a.store_id = :store_id AND q.account_id = a.account_id
  AND (ops.mentions_personal(q.raw_text, k.known) OR ops.mentions_personal(q.reason, k.known))
