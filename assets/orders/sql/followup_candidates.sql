-- The account's orders not followed up yet whose every item has been through matching: what this
-- follow-up run may mark as followed up once the auto-confirm rule has seen them. An order whose items
-- are still pending (it landed after matching ran) stays for the next follow-up.
SELECT o.order_id
FROM core.orders o
WHERE o.account_id = :account_id
  AND o.followed_up_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM core.order_items i WHERE i.order_id = o.order_id AND i.match_status = 'pending')
ORDER BY o.order_id
