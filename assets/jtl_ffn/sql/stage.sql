-- One FFN sync's staging tables (a full snapshot of what the fulfiller reports), dropped at commit.
CREATE TEMP TABLE ffn_payloads (kind text, external_id text, payload text, payload_sha text) ON COMMIT DROP;
CREATE TEMP TABLE ffn_products (jfsku text, merchant_sku text, name text, gtin text) ON COMMIT DROP;
CREATE TEMP TABLE ffn_stock (jfsku text, warehouse_id text, stock_level numeric, reserved numeric, blocked numeric,
                             announced numeric) ON COMMIT DROP;
CREATE TEMP TABLE ffn_inbounds (inbound_id text, merchant_inbound_number text, warehouse_id text, status text,
                                created_at_fulfiller timestamptz) ON COMMIT DROP;
CREATE TEMP TABLE ffn_inbound_items (inbound_id text, jfsku text, quantity numeric, received numeric) ON COMMIT DROP;
CREATE TEMP TABLE ffn_shipments (notification_id text, merchant_outbound_number text, carrier text,
                                 tracking_number text, tracking_url text, shipped_at timestamptz, items text)
    ON COMMIT DROP;
