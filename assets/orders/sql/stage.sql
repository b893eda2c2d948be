-- Staging tables for a page of canonical orders (any channel, one or several accounts): made once per
-- connection, emptied after each merge. channel_shipment_id is the channel's shipment id where it
-- splits orders (Letzshop), else its order id; account_id the account it is of.
CREATE TEMP TABLE IF NOT EXISTS stage_raw (account_id bigint, shipment_id text, payload jsonb, payload_sha text)
    ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_orders (
    account_id bigint, channel_order_id text, channel_shipment_id text, order_number text, shipment_number text,
    customer_email text, customer_name text, customer_locale text, total numeric(14, 2), currency char(3),
    channel_state text, ordered_at timestamptz, tracking_number text, tracking_carrier text,
    source_payload_sha text
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_addresses (
    account_id bigint, channel_shipment_id text, kind text, first_name text, last_name text, company text, street_name text,
    street_number text, zip_code text, city text, country_iso char(2), country_name text, phone text
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_items (
    account_id bigint, channel_shipment_id text, channel_item_id text, channel_variant_id text, sku text, mpn text,
    barcode text, barcode_type text, gtin14 char(14), title text, brand text, unit_price numeric(14, 2),
    channel_state text, quantity integer
) ON COMMIT DELETE ROWS;
