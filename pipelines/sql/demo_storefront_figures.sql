-- The demo's storefront figures: the account's orders, and the units the demo order holds in stock.
SELECT (SELECT count(*) FROM core.orders WHERE account_id = :a) AS orders,
       (SELECT coalesce(sum(units), 0) FROM core.stock_order_units(:s) WHERE order_id = :o) AS reserved
