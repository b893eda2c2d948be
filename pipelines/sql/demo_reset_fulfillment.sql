-- What the demo store :s owns on the fulfillment side, children first.
-- Statements run one by one (demo_world.run_statements): each ends with ';' at the end of its line.
DELETE FROM ops.inbound_checks WHERE store_id = :s;
DELETE FROM raw.inbound_sheet_rows WHERE store_id = :s;
DELETE FROM ops.inbound_sheets WHERE store_id = :s;
DELETE FROM core.fulfillment_shipments WHERE account_id IN (SELECT account_id FROM ops.accounts WHERE store_id = :s);
DELETE FROM core.fulfillment_outbounds WHERE account_id IN (SELECT account_id FROM ops.accounts WHERE store_id = :s);
DELETE FROM core.fulfillment_inbounds WHERE account_id IN (SELECT account_id FROM ops.accounts WHERE store_id = :s);
DELETE FROM core.fulfillment_stock WHERE account_id IN (SELECT account_id FROM ops.accounts WHERE store_id = :s);
DELETE FROM core.fulfillment_products WHERE account_id IN (SELECT account_id FROM ops.accounts WHERE store_id = :s);
DELETE FROM raw.jtl_ffn_payloads WHERE account_id IN (SELECT account_id FROM ops.accounts WHERE store_id = :s);
