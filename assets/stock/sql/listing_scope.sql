-- What decides whether product :p is a listing on account :a's channel: its rule, whether the channel
-- acknowledged a number for it, whether it was sold there. One row, also when none of them exists.
SELECT r.listed AS rule_listed, cs.acknowledged_quantity, cs.product_id IS NOT NULL AS acknowledged,
       EXISTS (SELECT 1 FROM core.orders o JOIN core.order_items i ON i.order_id = o.order_id
               WHERE o.account_id = :a AND i.product_id = :p) AS sold
FROM (SELECT 1) one
LEFT JOIN core.stock_listing_rules r ON r.account_id = :a AND r.product_id = :p
LEFT JOIN core.channel_stock cs ON cs.account_id = :a AND cs.product_id = :p
