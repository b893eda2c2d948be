DROP TABLE IF EXISTS ops.inbound_checks, raw.inbound_sheet_rows, ops.inbound_sheets, core.fulfillment_shipments,
    core.fulfillment_outbounds, core.fulfillment_inbound_items, core.fulfillment_inbounds, core.fulfillment_stock,
    core.fulfillment_products, raw.jtl_ffn_payloads;
