-- Records of the store that could not be read and are older than its retention period: what they say
-- about a buyer goes (they are kept for the reason and the counts).
UPDATE ops.quarantine q SET raw_text = ops.scrub_personal_record(q.raw_text, '{}')
FROM ops.accounts a
WHERE a.store_id = :store_id AND q.account_id = a.account_id AND q.created_at < :cutoff
  AND q.raw_text IS DISTINCT FROM ops.scrub_personal_record(q.raw_text, '{}')
