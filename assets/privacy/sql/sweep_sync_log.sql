UPDATE ops.sync_log l SET errors = ops.scrub_personal_json(l.errors, k.known)
FROM forget_known k, ops.accounts a
WHERE a.store_id = :store_id AND l.account_id = a.account_id
  AND ops.mentions_personal(l.errors::text, k.known)
