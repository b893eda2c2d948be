-- `marketsync orders show`: the order as analysts see it, with the parcel's tracking number and page the
-- operator needs to follow it (the buyer's own contact is for support: support.order_contacts).
SELECT a.*, o.tracking_number, o.tracking_url
FROM analytics.orders a
JOIN core.orders o USING (order_id)
WHERE a.order_id = :o
