-- One ledger row per listing to push, with every term of the formula and what the channel had
-- acknowledged before; the channel's answer is filled in once it arrives.
INSERT INTO core.stock_ledger (
    inventory_sync_id, account_id, product_id, sku, ffn_on_hand, ffn_foreign_reserved, feed_quantity,
    manual_quantity, reserved, shipped_uncounted, safety_stock, available, quantity_override, max_quantity,
    out_of_stock_threshold, sync_zero_stock, on_demand, pushed_quantity, previous_acknowledged, listed)
SELECT :sync_id, :account_id, a.product_id, a.sku, a.ffn_on_hand, a.ffn_foreign_reserved, a.feed_quantity,
       a.manual_quantity, a.reserved, a.shipped_uncounted, a.safety_stock, a.available, a.quantity_override,
       a.max_quantity, a.out_of_stock_threshold, a.sync_zero_stock, a.on_demand, a.pushed_quantity,
       a.acknowledged_quantity, a.listed
FROM stock_push_rows a
ORDER BY a.sku
