-- The account's latest cheap live call, and whether it is recent enough to answer from (clock_timestamp:
-- the moment of the read, not the start of a transaction that may have waited on the account's lock).
SELECT ok, detail, checked_at, checked_at > clock_timestamp() - make_interval(secs => :max_age) AS fresh
FROM ops.api_status
WHERE account_id = :account_id
