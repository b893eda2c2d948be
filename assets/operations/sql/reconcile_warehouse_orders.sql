-- An account's orders whose channel-side creation time falls in [start, end), as reconciliation compares
-- them: the id the channel knows (the Letzshop shipment, the Amazon or eBay order), the number people use
-- (the shipment number where there is one), its units (pieces) and total. Served by the account's unique
-- index (account_id, channel_shipment_id) and the items' (order_id, channel_item_id).
SELECT o.channel_shipment_id AS key,
       coalesce(o.shipment_number, o.order_number) AS number,
       coalesce((SELECT sum(i.quantity) FROM core.order_items i WHERE i.order_id = o.order_id), 0) AS units,
       o.total,
       o.currency::text AS currency
FROM core.orders o
WHERE o.account_id = :account_id
  AND o.ordered_at >= :start AND o.ordered_at < :end
