-- Pending pushed batches: how many, the newest id, and how many have waited longer than :stuck minutes.
SELECT count(*) AS pending, coalesce(max(inbox_id), 0) AS newest,
       count(*) FILTER (WHERE received_at < now() - make_interval(mins => :stuck)) AS stuck
FROM ops.feed_inbox
WHERE status = 'pending'
