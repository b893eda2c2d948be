DROP INDEX core.orders_ordered_at;
DROP INDEX ops.outbound_queue_open;
DROP INDEX ops.inventory_syncs_succeeded;
