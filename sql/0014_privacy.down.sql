DROP TRIGGER IF EXISTS keep_erased ON core.orders;
DROP TRIGGER IF EXISTS keep_erased ON core.order_addresses;
DROP TRIGGER IF EXISTS keep_erased ON raw.letzshop_shipments;
DROP TRIGGER IF EXISTS keep_erased ON raw.channel_orders;
DROP TRIGGER IF EXISTS keep_erased ON ops.quarantine;
DROP TABLE ops.privacy_requests;
DROP INDEX raw.channel_orders_order;
DROP INDEX ops.quarantine_record;
DROP INDEX core.fulfillment_shipments_outbound;
DROP INDEX core.orders_buyer_email;
DROP INDEX core.orders_retention_due;
ALTER TABLE core.orders DROP CONSTRAINT orders_removed_personal_data_stays_removed,
    DROP COLUMN personal_data_removed_by, DROP COLUMN personal_data_removed_at;
ALTER TABLE ops.stores DROP COLUMN personal_data_retention;
