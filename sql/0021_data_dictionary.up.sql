-- The data dictionary (issue 21): every schema, and every table, view and column an analyst reads in core,
-- carries its business meaning as a comment, so psql (\d+), DBeaver or a BI tool shows it, and the README's
-- data dictionary is generated from the same text (`make dictionary`). The analytics views are commented in
-- their own repeatable files, right after each view. A new table or column in core needs its comment in
-- the same migration (tests/test_data_dictionary.py fails otherwise).

-- ---------------------------------------------------------------- schemas
COMMENT ON SCHEMA core IS
    'The canonical warehouse: orders, order items and addresses of every channel in one model, the store catalog and the catalog sources'' products, fulfilment (JTL-FFN) and stock and price pushes. Analysts read it (SELECT only); a store role reads only its stores'' rows.';
COMMENT ON SCHEMA analytics IS
    'Views for analysts over core and ops: orders, order lines, exceptions, sync and import logs, stock and price pushes, metrics. Each view keeps to the stores the current user reads (core.visible_stores).';
COMMENT ON SCHEMA raw IS
    'Payloads as received from the channels (one row per distinct version) and the inbound control sheet as last read. Not readable by analysts.';
COMMENT ON SCHEMA ops IS
    'The application''s operational state: stores, accounts, credentials (encrypted), the outbound queue, sync log, import runs, settings, alerts. Not readable by analysts; the analytics views summarise it.';

-- ---------------------------------------------------------------- orders
COMMENT ON TABLE core.orders IS
    'One row per channel order, or per shipment where the channel splits an order by seller (Letzshop: one row per shipment). Written by the order imports of every channel (merged on each import, new versions only) and by our own actions (confirm, reject, ship).';
COMMENT ON COLUMN core.orders.order_id IS 'Warehouse key of the order (our own, stable).';
COMMENT ON COLUMN core.orders.store_id IS 'The store the order belongs to; core.visible_stores has its code and name.';
COMMENT ON COLUMN core.orders.account_id IS 'The channel account it was imported through; core.visible_accounts has its store and channel.';
COMMENT ON COLUMN core.orders.channel IS 'The channel the order came from: letzshop, amazon, ebay or storefront (the store''s own shop), as declared by the channel packages.';
COMMENT ON COLUMN core.orders.channel_order_id IS 'The channel''s id of the order (Letzshop order id, Amazon and eBay orderId, storefront order number). Set at import.';
COMMENT ON COLUMN core.orders.channel_shipment_id IS 'The channel''s id of the shipment this row stands for (Letzshop shipment id); equal to channel_order_id on channels that do not split orders. Unique per account.';
COMMENT ON COLUMN core.orders.order_number IS 'The order number people see: Letzshop R..., Amazon and eBay the orderId, the storefront''s own order number. Updated on re-import.';
COMMENT ON COLUMN core.orders.shipment_number IS 'Letzshop''s shipment number (H...); null on other channels. Also the number the order is handed to JTL-FFN under.';
COMMENT ON COLUMN core.orders.customer_email IS 'Personal data: the buyer''s e-mail address as the channel sends it. Updated on re-import; null once personal_data_removed_at is set.';
COMMENT ON COLUMN core.orders.customer_name IS 'Personal data: the buyer''s name (Letzshop: shipping, else billing address name; Amazon: buyerName; eBay: ship-to name, else user name; storefront: buyer.name). Null once personal_data_removed_at is set.';
COMMENT ON COLUMN core.orders.customer_locale IS 'The buyer''s language as the channel sends it (Letzshop order locale, storefront buyer.locale, e.g. de, fr, en); null for Amazon and eBay.';
COMMENT ON COLUMN core.orders.total IS 'The order total as the channel reports it, in the order''s currency, `currency` (Letzshop: the order total; Amazon: proceeds grandTotal; eBay: pricingSummary.total; storefront: total). Updated on re-import.';
COMMENT ON COLUMN core.orders.currency IS 'ISO 4217 currency code of total and of the items'' unit_price (from the channel, else the account''s currency, default EUR).';
COMMENT ON COLUMN core.orders.channel_state IS 'The order''s state as the channel reports it, updated on every import (Letzshop: unconfirmed, confirmed, declined; Amazon: fulfillment status; eBay: one state folded from payment, cancel and fulfillment status; storefront: pending, paid, shipped, cancelled, refunded). core.order_status_map says what each means.';
COMMENT ON COLUMN core.orders.sync_status IS 'Where marketsync stands with the order: imported (nothing sent yet), confirming (confirmation queued), confirmed, rejecting (rejection queued), rejected, shipped. Moved by our actions and forward when the channel confirmed, cancelled or shipped it itself.';
COMMENT ON COLUMN core.orders.ordered_at IS 'When the buyer ordered, as the channel says (Letzshop completedAt, Amazon createdTime, eBay creationDate, storefront ordered_at).';
COMMENT ON COLUMN core.orders.tracking_number IS 'Personal data: the parcel''s tracking number, from the channel or set by us (marketsync orders ship, JTL-FFN shipping notifications); a number we set is kept over re-imports.';
COMMENT ON COLUMN core.orders.tracking_carrier IS 'The carrier of the parcel (e.g. DHL, Post), from the channel or set by us with the tracking number.';
COMMENT ON COLUMN core.orders.tracking_url IS 'Personal data: the carrier''s tracking or label page, made by us from the account''s carrier_label_prefixes setting and the shipment number when tracking is set; null otherwise.';
COMMENT ON COLUMN core.orders.shipped_at IS 'When marketsync recorded the order as shipped (our ship action, or the first import at which the channel reported it shipped or delivered); not the carrier''s pick-up time.';
COMMENT ON COLUMN core.orders.rejection_reason IS 'The reason given when the order was rejected through marketsync (marketsync orders reject --reason); null otherwise.';
COMMENT ON COLUMN core.orders.source_payload_sha IS 'Hash of the raw payload version last merged into this row (raw.letzshop_shipments, raw.channel_orders): an unchanged re-fetch writes nothing.';
COMMENT ON COLUMN core.orders.imported_at IS 'When the order first reached the warehouse. Set once.';
COMMENT ON COLUMN core.orders.updated_at IS 'When marketsync last changed the row (an import with a new version, an action on the order).';
COMMENT ON COLUMN core.orders.status IS 'One status across channels, set by a trigger from channel and channel_state through core.order_status_map: pending, confirmed, processing, shipped, delivered, fulfilled (a digital order whose keys all reached the buyer), cancelled, refunded, partially_refunded; null for a state not mapped yet.';
COMMENT ON COLUMN core.orders.followed_up_at IS 'When the follow-up run (matching to the catalog, then the auto-confirm rule) handled the order; null while it waits for one.';
COMMENT ON COLUMN core.orders.digital_delivered_at IS 'When the last key of an order whose items are all digital products reached the buyer; null for any order with a physical item or keys still to deliver.';
COMMENT ON COLUMN core.orders.personal_data_removed_at IS 'When the buyer''s personal data was removed from this order (name, e-mail, address fields); null while it is kept. A re-import does not bring it back.';
COMMENT ON COLUMN core.orders.personal_data_removed_by IS 'Why the personal data was removed: erasure (an erasure request, marketsync privacy erase) or retention (the store''s retention period ran out); null while it is kept.';

COMMENT ON TABLE core.order_addresses IS
    'One row per order and address kind (shipping, billing) as the channel sends it; Amazon and eBay send a shipping address only. Rewritten on each import of a new order version; the personal fields are emptied when the order''s personal data is removed.';
COMMENT ON COLUMN core.order_addresses.order_id IS 'The order (core.orders).';
COMMENT ON COLUMN core.order_addresses.kind IS 'Which address: shipping or billing.';
COMMENT ON COLUMN core.order_addresses.first_name IS 'Personal data: the addressee''s first name (Amazon and eBay: split from the full name).';
COMMENT ON COLUMN core.order_addresses.last_name IS 'Personal data: the addressee''s last name (Amazon and eBay: split from the full name).';
COMMENT ON COLUMN core.order_addresses.company IS 'Personal data: the company of the address, when given.';
COMMENT ON COLUMN core.order_addresses.street_name IS 'Personal data: the street (Amazon and eBay: address lines 1 and 2, house number included).';
COMMENT ON COLUMN core.order_addresses.street_number IS 'Personal data: the house number (Letzshop, storefront); null where the channel sends it within the street.';
COMMENT ON COLUMN core.order_addresses.zip_code IS 'Personal data: the postcode as the channel sends it.';
COMMENT ON COLUMN core.order_addresses.city IS 'Personal data: the city.';
COMMENT ON COLUMN core.order_addresses.country_iso IS 'Country, ISO 3166-1 alpha-2 code (e.g. LU, DE). Kept when the personal data is removed.';
COMMENT ON COLUMN core.order_addresses.country_name IS 'Country name as Letzshop sends it; null on other channels.';
COMMENT ON COLUMN core.order_addresses.phone IS 'Personal data: the phone number given with the address.';

COMMENT ON TABLE core.order_items IS
    'One row per item of an order as the channel lists it: one inventory unit (one piece, quantity 1) on Letzshop, one line with its quantity on Amazon, eBay and the storefront. Count units with sum(quantity); analytics.order_lines groups them into lines. Written at import, then by matching to the catalog.';
COMMENT ON COLUMN core.order_items.order_item_id IS 'Warehouse key of the item (our own, stable).';
COMMENT ON COLUMN core.order_items.order_id IS 'The order (core.orders).';
COMMENT ON COLUMN core.order_items.channel_item_id IS 'The channel''s id of the item: Letzshop inventory unit id, Amazon orderItemId, eBay lineItemId, storefront line position (1, 2, ...). Unique per order.';
COMMENT ON COLUMN core.order_items.channel_variant_id IS 'The channel''s id of the product variant sold: Letzshop variant id, Amazon ASIN, eBay legacyVariationId (else legacyItemId); null for the storefront.';
COMMENT ON COLUMN core.order_items.sku IS 'The SKU the channel sent for the item (the seller SKU), as written; matching compares it with core.products.sku.';
COMMENT ON COLUMN core.order_items.mpn IS 'Manufacturer part number, as Letzshop sends it; null on other channels.';
COMMENT ON COLUMN core.order_items.barcode IS 'The barcode as the channel sent it (Letzshop tradeId number, storefront gtin); null where none is sent.';
COMMENT ON COLUMN core.order_items.barcode_type IS 'The kind of barcode as the channel names it (Letzshop tradeId parser; storefront: gtin).';
COMMENT ON COLUMN core.order_items.gtin14 IS 'The barcode normalised to a 14-digit GTIN with a valid check digit; null when there is no barcode or it is not a valid GTIN. Matching uses it first.';
COMMENT ON COLUMN core.order_items.title IS 'The product title the channel sent (Letzshop: in the order''s language, else en, fr, de).';
COMMENT ON COLUMN core.order_items.brand IS 'The brand, as Letzshop sends it; null on other channels.';
COMMENT ON COLUMN core.order_items.unit_price IS 'Price of one unit, in the order''s currency, `currency` of core.orders (eBay: the line cost divided by its quantity). Updated on re-import.';
COMMENT ON COLUMN core.order_items.quantity IS 'Units on this row: always 1 on Letzshop (a row is a unit), the ordered quantity on Amazon, eBay and the storefront.';
COMMENT ON COLUMN core.order_items.channel_state IS 'The item''s state as the channel reports it (Letzshop unit state, e.g. unconfirmed, confirmed_available, confirmed_unavailable, returned; Amazon: the order''s fulfillment status, FULFILLED_BY_AMAZON when Amazon ships it; eBay lineItemFulfillmentStatus; storefront: the order''s status). Updated on import and by our confirm and reject actions.';
COMMENT ON COLUMN core.order_items.product_id IS 'The store product (core.products) the item was matched to, or a placeholder product while unmatched; null while matching is pending.';
COMMENT ON COLUMN core.order_items.match_status IS 'Matching to the catalog: pending (not matched yet), matched (product_id is the store''s product), unmatched (pointed at a placeholder; an exception waits in analytics.order_exceptions). A changed barcode or SKU sets it back to pending.';
COMMENT ON COLUMN core.order_items.matched_by IS 'How the item was matched: gtin, sku, or manual (a person resolved its exception); null unless matched.';
COMMENT ON COLUMN core.order_items.updated_at IS 'When marketsync last changed the row (import of a changed item, matching).';

COMMENT ON TABLE core.order_status_map IS
    'One row per channel and channel state: the cross-channel status it means. Reference data shipped with the migrations; an unmapped state gives core.orders.status null.';
COMMENT ON COLUMN core.order_status_map.channel IS 'The channel (letzshop, amazon, ebay, storefront).';
COMMENT ON COLUMN core.order_status_map.channel_state IS 'A state as that channel reports it (core.orders.channel_state).';
COMMENT ON COLUMN core.order_status_map.status IS 'The cross-channel status it means: pending, confirmed, processing, shipped, delivered, fulfilled, cancelled, refunded or partially_refunded.';
COMMENT ON COLUMN core.order_status_map.meaning IS 'What the state means, in words.';

COMMENT ON TABLE core.order_status_history IS
    'One row per change of one order''s status, channel_state or sync_status (and one per field when the order is created), written by a trigger on core.orders whichever code made the change. Rows with cause ''backfill: ...'' were rebuilt from what was known when the history began.';
COMMENT ON COLUMN core.order_status_history.history_id IS 'Warehouse key of the change; increases with time.';
COMMENT ON COLUMN core.order_status_history.order_id IS 'The order (core.orders).';
COMMENT ON COLUMN core.order_status_history.store_id IS 'The order''s store (core.visible_stores).';
COMMENT ON COLUMN core.order_status_history.field IS 'Which column changed: status, channel_state or sync_status.';
COMMENT ON COLUMN core.order_status_history.old_value IS 'The value before the change; null for the order''s first value.';
COMMENT ON COLUMN core.order_status_history.new_value IS 'The value after the change.';
COMMENT ON COLUMN core.order_status_history.changed_at IS 'When the change was made (the start of its transaction).';
COMMENT ON COLUMN core.order_status_history.cause IS 'What caused it, as the writer declared it, e.g. import of letzshop orders (run 1a2b3c4d), confirmation queued, outbound write 42 (confirm), created, changed (no cause declared), backfill: ...';
COMMENT ON COLUMN core.order_status_history.actor IS 'Who made it, where known, e.g. cli alice: marketsync orders confirm, dagster run 1a2b3c4d (job); null when not declared.';

-- ---------------------------------------------------------------- the catalog
COMMENT ON TABLE core.products IS
    'One row per store product (listing), keyed by the store''s SKU: loaded from the store''s catalog CSV (marketsync products import), or a placeholder made for an unmatched order item. It may list a catalog source''s product (marketplace_product_id): its own columns then override, a null inherits (analytics.store_catalog shows the result).';
COMMENT ON COLUMN core.products.product_id IS 'Warehouse key of the product (our own, stable).';
COMMENT ON COLUMN core.products.store_id IS 'The store (core.visible_stores).';
COMMENT ON COLUMN core.products.sku IS 'The store''s SKU, unique per store; a placeholder''s is unmatched:<gtin, barcode or channel SKU>.';
COMMENT ON COLUMN core.products.gtin14 IS 'The product''s own 14-digit GTIN (from the catalog CSV); null inherits the marketplace product''s for matching.';
COMMENT ON COLUMN core.products.title IS 'The product''s own title from the catalog CSV (a placeholder: the order item''s title); translations per language come first in analytics.store_catalog.';
COMMENT ON COLUMN core.products.is_placeholder IS 'True for a placeholder standing in for an unmatched barcode or SKU of order items (not a real listing; analytics.store_catalog leaves it out).';
COMMENT ON COLUMN core.products.attributes IS 'Further columns of the catalog CSV as a JSON object (column name: value); a placeholder''s barcode and channel_sku.';
COMMENT ON COLUMN core.products.created_at IS 'When the product was first loaded.';
COMMENT ON COLUMN core.products.updated_at IS 'When marketsync last changed the row (a catalog load with changed values, linking to a catalog source).';
COMMENT ON COLUMN core.products.marketplace_product_id IS 'The catalog source''s product this listing stands for (core.marketplace_products); linked on a feed import by the same SKU, else the same GTIN, when exactly one product of the source has it.';
COMMENT ON COLUMN core.products.mpn IS 'The store''s own manufacturer part number; null inherits the marketplace product''s. No import writes it.';
COMMENT ON COLUMN core.products.brand IS 'The store''s own brand; null inherits the marketplace product''s. No import writes it.';
COMMENT ON COLUMN core.products.price IS 'The store''s own selling price, in `currency` (else the marketplace product''s currency); null inherits the marketplace product''s price. The base of price pushes. No import writes it.';
COMMENT ON COLUMN core.products.currency IS 'ISO 4217 code of the store''s own price; null inherits the marketplace product''s currency.';
COMMENT ON COLUMN core.products.availability IS 'The store''s own availability text; null inherits the marketplace product''s. No import writes it.';
COMMENT ON COLUMN core.products.quantity IS 'The store''s own stock quantity in units; when set it is the listing''s feed_quantity in stock pushes instead of its supplier''s. Null inherits.';
COMMENT ON COLUMN core.products.product_type IS 'physical or digital; null inherits the marketplace product''s type (physical when there is none).';

COMMENT ON TABLE core.product_translations IS
    'One row per store product and language: the store''s own title and description, which override the catalog source''s (analytics.store_catalog). No import writes it.';
COMMENT ON COLUMN core.product_translations.product_id IS 'The store product (core.products).';
COMMENT ON COLUMN core.product_translations.language IS 'Two-letter language code (e.g. de, fr, en).';
COMMENT ON COLUMN core.product_translations.title IS 'The store''s title in that language; null inherits the catalog source''s.';
COMMENT ON COLUMN core.product_translations.description IS 'The store''s description in that language; null inherits the catalog source''s.';

COMMENT ON TABLE core.marketplace_products IS
    'One row per product of a catalog source (a Letzshop product feed, CodesWholesale, a supplier feed pulled or pushed), keyed by the source''s own id. Written by each import of its source, only when the content changed; a record older than the stored one never overwrites it.';
COMMENT ON COLUMN core.marketplace_products.marketplace_product_id IS 'Warehouse key of the product (our own, stable).';
COMMENT ON COLUMN core.marketplace_products.source_id IS 'The catalog source it comes from (core.visible_catalog_sources: its name and kind).';
COMMENT ON COLUMN core.marketplace_products.external_id IS 'The source''s own id of the product (the feed''s id column, a pushed item''s externalId, the CodesWholesale product id). Unique per source.';
COMMENT ON COLUMN core.marketplace_products.gtin14 IS 'The product''s GTIN normalised to 14 digits with a valid check digit; null when the source gives none.';
COMMENT ON COLUMN core.marketplace_products.sku IS 'The source''s SKU of the product (CodesWholesale: its identifier); store products link to it by SKU.';
COMMENT ON COLUMN core.marketplace_products.mpn IS 'Manufacturer part number, as the source gives it.';
COMMENT ON COLUMN core.marketplace_products.brand IS 'Brand, as the source gives it.';
COMMENT ON COLUMN core.marketplace_products.price IS 'The source''s price of one unit, in `currency` (CodesWholesale: the price of a single key; its quantity tiers are in attributes.price_tiers). Updated on import.';
COMMENT ON COLUMN core.marketplace_products.currency IS 'ISO 4217 code of price.';
COMMENT ON COLUMN core.marketplace_products.availability IS 'Availability as the source states it, free text (e.g. in stock, out of stock; CodesWholesale: in_stock, out_of_stock).';
COMMENT ON COLUMN core.marketplace_products.quantity IS 'Units in stock as the source reports it; null when it does not say. A supplier feed''s or CodesWholesale''s quantity is a stock source of the stock push (feed_quantity).';
COMMENT ON COLUMN core.marketplace_products.product_type IS 'physical or digital (CodesWholesale products are digital keys).';
COMMENT ON COLUMN core.marketplace_products.platform IS 'For digital keys: the platform they activate on (CodesWholesale, e.g. Steam); null otherwise.';
COMMENT ON COLUMN core.marketplace_products.regions IS 'For digital keys: the regions they work in, as the source names them; null otherwise.';
COMMENT ON COLUMN core.marketplace_products.languages IS 'For digital keys: the languages of the product as two-letter codes; null otherwise.';
COMMENT ON COLUMN core.marketplace_products.attributes IS 'Further fields of the source as a JSON object: mapped feed columns beyond the canonical ones; CodesWholesale price_tiers, images, badges, region_description, release_date.';
COMMENT ON COLUMN core.marketplace_products.source_updated_at IS 'When the source says the record last changed, where it says so; an update older than this is ignored.';
COMMENT ON COLUMN core.marketplace_products.content_sha IS 'Hash of the loaded values: a refresh writes only rows whose hash changed.';
COMMENT ON COLUMN core.marketplace_products.first_seen_at IS 'When the product was first imported. Set once.';
COMMENT ON COLUMN core.marketplace_products.updated_at IS 'When an import last changed the row.';

COMMENT ON TABLE core.marketplace_product_translations IS
    'One row per catalog source product and language: its title and description as the source gives them. Written by the imports of the source.';
COMMENT ON COLUMN core.marketplace_product_translations.marketplace_product_id IS 'The catalog source''s product (core.marketplace_products).';
COMMENT ON COLUMN core.marketplace_product_translations.language IS 'Two-letter language code (e.g. de, fr, en).';
COMMENT ON COLUMN core.marketplace_product_translations.title IS 'The product title in that language.';
COMMENT ON COLUMN core.marketplace_product_translations.description IS 'The description in that language as the source wrote it, HTML included.';
COMMENT ON COLUMN core.marketplace_product_translations.description_text IS 'The description as plain text where the source gave HTML (tags removed, entities decoded); null when the description is plain text already.';

-- ---------------------------------------------------------------- fulfilment (JTL-FFN)
COMMENT ON TABLE core.fulfillment_products IS
    'One row per product the fulfiller (JTL-FFN) holds for an FFN account: the store''s SKU and the fulfiller''s jfsku. Synced from the FFN products API; a product gone at FFN is deleted.';
COMMENT ON COLUMN core.fulfillment_products.account_id IS 'The JTL-FFN account (core.visible_accounts).';
COMMENT ON COLUMN core.fulfillment_products.jfsku IS 'JTL-FFN''s id of the product.';
COMMENT ON COLUMN core.fulfillment_products.merchant_sku IS 'The store''s SKU at FFN (merchantSku; the jfsku when FFN has none); stock joins it to core.products.sku.';
COMMENT ON COLUMN core.fulfillment_products.name IS 'The product name at FFN.';
COMMENT ON COLUMN core.fulfillment_products.gtin IS 'The EAN or GTIN FFN holds for the product, as FFN sends it (not normalised).';
COMMENT ON COLUMN core.fulfillment_products.updated_at IS 'When a sync last changed the row.';

COMMENT ON TABLE core.fulfillment_stock IS
    'One row per FFN product (jfsku) and warehouse: the fulfiller''s stock figures in units, as of the last FFN stock sync (rewritten when they change).';
COMMENT ON COLUMN core.fulfillment_stock.account_id IS 'The JTL-FFN account (core.visible_accounts).';
COMMENT ON COLUMN core.fulfillment_stock.jfsku IS 'JTL-FFN''s id of the product (core.fulfillment_products).';
COMMENT ON COLUMN core.fulfillment_stock.warehouse_id IS 'The FFN warehouse; empty text when FFN reports the product''s stock without warehouses.';
COMMENT ON COLUMN core.fulfillment_stock.stock_level IS 'Units available for shipment (FFN stockLevel); blocked units are apart. The stock push''s ffn_on_hand.';
COMMENT ON COLUMN core.fulfillment_stock.reserved IS 'Units FFN reserved for outbounds (stockLevelReserved).';
COMMENT ON COLUMN core.fulfillment_stock.blocked IS 'Units FFN holds but will not ship (stockLevelBlocked, e.g. damaged).';
COMMENT ON COLUMN core.fulfillment_stock.announced IS 'Units announced in inbounds and not received yet (stockLevelAnnounced).';
COMMENT ON COLUMN core.fulfillment_stock.updated_at IS 'When a stock sync last changed the figures.';

COMMENT ON TABLE core.fulfillment_inbounds IS
    'One row per inbound: a delivery announced to an FFN warehouse. Synced from the FFN inbounds API.';
COMMENT ON COLUMN core.fulfillment_inbounds.account_id IS 'The JTL-FFN account (core.visible_accounts).';
COMMENT ON COLUMN core.fulfillment_inbounds.inbound_id IS 'JTL-FFN''s id of the inbound.';
COMMENT ON COLUMN core.fulfillment_inbounds.merchant_inbound_number IS 'The merchant''s own number of the inbound (merchantInboundNumber); the inbound control sheet refers to it.';
COMMENT ON COLUMN core.fulfillment_inbounds.warehouse_id IS 'The FFN warehouse the delivery goes to.';
COMMENT ON COLUMN core.fulfillment_inbounds.status IS 'The inbound''s status as FFN reports it.';
COMMENT ON COLUMN core.fulfillment_inbounds.created_at_fulfiller IS 'When the inbound was created at FFN.';
COMMENT ON COLUMN core.fulfillment_inbounds.updated_at IS 'When a sync last changed the row.';

COMMENT ON TABLE core.fulfillment_inbound_items IS
    'One row per inbound and product (jfsku): the units expected and received so far. Synced with its inbound.';
COMMENT ON COLUMN core.fulfillment_inbound_items.account_id IS 'The JTL-FFN account (core.visible_accounts).';
COMMENT ON COLUMN core.fulfillment_inbound_items.inbound_id IS 'The inbound (core.fulfillment_inbounds).';
COMMENT ON COLUMN core.fulfillment_inbound_items.jfsku IS 'JTL-FFN''s id of the product.';
COMMENT ON COLUMN core.fulfillment_inbound_items.merchant_sku IS 'The store''s SKU of the product, from core.fulfillment_products; null when FFN''s product is not known yet.';
COMMENT ON COLUMN core.fulfillment_inbound_items.quantity IS 'Units announced in the inbound.';
COMMENT ON COLUMN core.fulfillment_inbound_items.received IS 'Units received so far (announced minus FFN''s quantityOpen).';

COMMENT ON TABLE core.fulfillment_outbounds IS
    'One row per order handed to JTL-FFN for shipping (an outbound), from the moment it is queued. Its status follows FFN.';
COMMENT ON COLUMN core.fulfillment_outbounds.account_id IS 'The JTL-FFN account (core.visible_accounts).';
COMMENT ON COLUMN core.fulfillment_outbounds.merchant_outbound_number IS 'Our number of the outbound (merchantOutboundNumber): the order''s shipment number, else its order number.';
COMMENT ON COLUMN core.fulfillment_outbounds.outbound_id IS 'JTL-FFN''s id of the outbound once FFN created it; null while queued.';
COMMENT ON COLUMN core.fulfillment_outbounds.order_id IS 'The order (core.orders).';
COMMENT ON COLUMN core.fulfillment_outbounds.status IS 'queued until FFN created the outbound, then FFN''s status (its answer on creation, then the outboundStatus of its newest shipping notification).';
COMMENT ON COLUMN core.fulfillment_outbounds.updated_at IS 'When the status last changed.';

COMMENT ON TABLE core.fulfillment_shipments IS
    'One row per shipping notification of FFN for one of our outbounds (a partial shipment is one of several). Written once when the notification is synced; its tracking is then handed to the sales channel.';
COMMENT ON COLUMN core.fulfillment_shipments.account_id IS 'The JTL-FFN account (core.visible_accounts).';
COMMENT ON COLUMN core.fulfillment_shipments.notification_id IS 'JTL-FFN''s id of the shipping notification.';
COMMENT ON COLUMN core.fulfillment_shipments.merchant_outbound_number IS 'The outbound it belongs to (core.fulfillment_outbounds).';
COMMENT ON COLUMN core.fulfillment_shipments.carrier IS 'The carrier, as named by the tracking identifier of the notification''s first package.';
COMMENT ON COLUMN core.fulfillment_shipments.tracking_number IS 'Personal data: the tracking number of the first package.';
COMMENT ON COLUMN core.fulfillment_shipments.tracking_url IS 'Personal data: the carrier''s tracking page of the first package, as FFN sends it.';
COMMENT ON COLUMN core.fulfillment_shipments.shipped_at IS 'When the package shipped (its shippingDate, else when FFN created the notification).';
COMMENT ON COLUMN core.fulfillment_shipments.items IS 'What the notification shipped: a JSON array of {jfsku, quantity}.';
COMMENT ON COLUMN core.fulfillment_shipments.tracking_queued_at IS 'When its tracking was queued for the sales channel; null while not yet handed over.';

-- ---------------------------------------------------------------- stock out
COMMENT ON TABLE core.stock_adjustments IS
    'One row per manual stock entry of a store product: a count (units on the shelf now) or a delta (units added or removed since). Written by marketsync stock adjust; the manual stock is the last count plus the deltas after it.';
COMMENT ON COLUMN core.stock_adjustments.adjustment_id IS 'Warehouse key of the entry; increases with time.';
COMMENT ON COLUMN core.stock_adjustments.store_id IS 'The store (core.visible_stores).';
COMMENT ON COLUMN core.stock_adjustments.product_id IS 'The store product (core.products).';
COMMENT ON COLUMN core.stock_adjustments.kind IS 'count (sets the manual stock) or delta (adds to it).';
COMMENT ON COLUMN core.stock_adjustments.quantity IS 'Units: the count (0 or more), or the change (negative for units removed).';
COMMENT ON COLUMN core.stock_adjustments.reason IS 'The reason the person gave; null when none.';
COMMENT ON COLUMN core.stock_adjustments.created_by IS 'Who entered it (cli for the command line).';
COMMENT ON COLUMN core.stock_adjustments.created_at IS 'When it was entered.';

COMMENT ON TABLE core.stock_listing_rules IS
    'One row per listing (store product) and stock channel account with a rule set by a person (marketsync stock rule): a fixed quantity, a maximum, or whether it is listed on that channel at all.';
COMMENT ON COLUMN core.stock_listing_rules.account_id IS 'The channel account the rule applies to (core.visible_accounts).';
COMMENT ON COLUMN core.stock_listing_rules.product_id IS 'The store product (core.products).';
COMMENT ON COLUMN core.stock_listing_rules.quantity_override IS 'Units to show instead of the computed availability; null: the computed one.';
COMMENT ON COLUMN core.stock_listing_rules.max_quantity IS 'The most units ever shown on the channel; null: no cap.';
COMMENT ON COLUMN core.stock_listing_rules.listed IS 'true: a listing there whatever the channel''s listings setting; false: taken off the channel (sent 0 once); null: as the setting says.';
COMMENT ON COLUMN core.stock_listing_rules.note IS 'Why the rule was set, as the person wrote it.';
COMMENT ON COLUMN core.stock_listing_rules.updated_at IS 'When the rule last changed.';

COMMENT ON TABLE core.stock_ledger IS
    'One row per listing per stock push (inventory sync): every term of the availability formula as computed, the number pushed, what the channel had acknowledged before and its answer. available = ffn_on_hand - ffn_foreign_reserved + feed_quantity + manual_quantity - reserved - shipped_uncounted - safety_stock, checked by the database. All quantities in units.';
COMMENT ON COLUMN core.stock_ledger.ledger_id IS 'Warehouse key of the row; increases with time.';
COMMENT ON COLUMN core.stock_ledger.inventory_sync_id IS 'The push it belongs to (analytics.inventory_syncs).';
COMMENT ON COLUMN core.stock_ledger.account_id IS 'The channel account pushed to (core.visible_accounts).';
COMMENT ON COLUMN core.stock_ledger.product_id IS 'The store product (core.products).';
COMMENT ON COLUMN core.stock_ledger.sku IS 'The store''s SKU of the listing at the time of the push.';
COMMENT ON COLUMN core.stock_ledger.ffn_on_hand IS 'Units available for shipment in the store''s JTL-FFN warehouses (sum of stock_level, rounded down).';
COMMENT ON COLUMN core.stock_ledger.ffn_foreign_reserved IS 'Units FFN reserved beyond our own open orders handed to it (another system''s outbounds).';
COMMENT ON COLUMN core.stock_ledger.feed_quantity IS 'The listing''s own quantity (core.products.quantity), else its supplier''s (pulled or pushed feed, CodesWholesale); a marketplace''s own catalog feed is no stock source.';
COMMENT ON COLUMN core.stock_ledger.manual_quantity IS 'The last manual count plus the manual deltas after it (core.stock_adjustments).';
COMMENT ON COLUMN core.stock_ledger.reserved IS 'Units of open orders (imported, confirming, confirmed, rejecting), excluding declined, cancelled or returned units and orders Amazon fulfils itself.';
COMMENT ON COLUMN core.stock_ledger.shipped_uncounted IS 'Units shipped after the listing''s stock sources last counted (still in those counts); shipments older than 90 days count as counted.';
COMMENT ON COLUMN core.stock_ledger.safety_stock IS 'Units held back on this channel (the channel''s stock settings).';
COMMENT ON COLUMN core.stock_ledger.available IS 'The computed availability in units: the terms added up (may be negative).';
COMMENT ON COLUMN core.stock_ledger.quantity_override IS 'The listing rule''s fixed quantity at the time (core.stock_listing_rules); null when none.';
COMMENT ON COLUMN core.stock_ledger.max_quantity IS 'The listing rule''s maximum at the time; null when none.';
COMMENT ON COLUMN core.stock_ledger.out_of_stock_threshold IS 'The channel''s out-of-stock threshold: at or below it the listing is sent 0, or not pushed (sync_zero_stock).';
COMMENT ON COLUMN core.stock_ledger.sync_zero_stock IS 'The channel''s setting at the time: true sends 0 at or below the threshold, false does not push the listing then.';
COMMENT ON COLUMN core.stock_ledger.on_demand IS 'True for a digital product from CodesWholesale, whose keys are bought when sold.';
COMMENT ON COLUMN core.stock_ledger.pushed_quantity IS 'The units sent to the channel: the availability after the listing rule, cap and threshold (0 for a listing taken off the channel).';
COMMENT ON COLUMN core.stock_ledger.previous_acknowledged IS 'The quantity the channel had acknowledged before this push; null when none.';
COMMENT ON COLUMN core.stock_ledger.answer IS 'The channel''s answer: pending (not answered yet), accepted (confirmed), delivered (a file reached the channel, no per-row answer), rejected (see answer_message), no_answer (not mentioned, or the push was interrupted), failed (the delivery failed).';
COMMENT ON COLUMN core.stock_ledger.answer_message IS 'The channel''s reason for a rejection, or what went wrong; null otherwise.';
COMMENT ON COLUMN core.stock_ledger.answered_at IS 'When the answer was recorded; null while pending.';
COMMENT ON COLUMN core.stock_ledger.computed_at IS 'When the availability was computed (the push''s transaction).';
COMMENT ON COLUMN core.stock_ledger.listed IS 'false when a listing rule took the product off the channel (it is sent 0 once); true otherwise.';

COMMENT ON TABLE core.channel_stock IS
    'One row per listing and stock channel account: the quantity the channel last acknowledged (an accepted or delivered push). A delta push sends the listings whose computed quantity differs from it.';
COMMENT ON COLUMN core.channel_stock.account_id IS 'The channel account (core.visible_accounts).';
COMMENT ON COLUMN core.channel_stock.product_id IS 'The store product (core.products).';
COMMENT ON COLUMN core.channel_stock.acknowledged_quantity IS 'Units the channel last acknowledged for the listing.';
COMMENT ON COLUMN core.channel_stock.acknowledged_at IS 'When that answer was recorded.';
COMMENT ON COLUMN core.channel_stock.ledger_id IS 'The ledger row of the push it came from (core.stock_ledger).';

-- ---------------------------------------------------------------- prices out
COMMENT ON TABLE core.price_ledger IS
    'One row per listing per price push: the base price and where it came from, the rule''s terms and each step (marked up, rounded, clamped), the final price sent, what the channel had acknowledged before and its answer. Amounts in `currency`.';
COMMENT ON COLUMN core.price_ledger.ledger_id IS 'Warehouse key of the row; increases with time.';
COMMENT ON COLUMN core.price_ledger.price_sync_id IS 'The price push it belongs to.';
COMMENT ON COLUMN core.price_ledger.account_id IS 'The channel account pushed to (core.visible_accounts).';
COMMENT ON COLUMN core.price_ledger.product_id IS 'The store product (core.products).';
COMMENT ON COLUMN core.price_ledger.sku IS 'The store''s SKU of the listing at the time of the push.';
COMMENT ON COLUMN core.price_ledger.currency IS 'ISO 4217 code of every amount of the row (the price rule''s currency).';
COMMENT ON COLUMN core.price_ledger.base_price IS 'The price the rule starts from, in `currency`: the store''s own price, else the catalog source''s.';
COMMENT ON COLUMN core.price_ledger.base_source IS 'Where the base came from: store (core.products.price) or catalog (the marketplace product''s price).';
COMMENT ON COLUMN core.price_ledger.markup_percent IS 'The rule''s markup at the time, in percent of the base.';
COMMENT ON COLUMN core.price_ledger.fixed_add IS 'The rule''s fixed amount added after the markup, in `currency`.';
COMMENT ON COLUMN core.price_ledger.marked_up IS 'base_price x (1 + markup_percent / 100) + fixed_add, in `currency`.';
COMMENT ON COLUMN core.price_ledger.rounding IS 'The rule''s rounding: none (to the cent), .99 or .95 (up to the next price ending so).';
COMMENT ON COLUMN core.price_ledger.rounded IS 'marked_up after rounding, in `currency`.';
COMMENT ON COLUMN core.price_ledger.ceiling_price IS 'The rule''s ceiling at the time, in `currency`; null when none.';
COMMENT ON COLUMN core.price_ledger.floor_price IS 'The rule''s floor at the time, in `currency`: the final price is never below it.';
COMMENT ON COLUMN core.price_ledger.clamped_by IS 'ceiling or floor when the rounded price was clamped to it; null when not.';
COMMENT ON COLUMN core.price_ledger.final_price IS 'The price sent to the channel, in `currency`.';
COMMENT ON COLUMN core.price_ledger.previous_acknowledged IS 'The price the channel had acknowledged before this push, in `currency`; null when none.';
COMMENT ON COLUMN core.price_ledger.answer IS 'The channel''s answer: pending, accepted, delivered (a file reached the channel), rejected (see answer_message), no_answer, failed (the delivery failed).';
COMMENT ON COLUMN core.price_ledger.answer_message IS 'The channel''s reason for a rejection, or what went wrong; null otherwise.';
COMMENT ON COLUMN core.price_ledger.answered_at IS 'When the answer was recorded; null while pending.';
COMMENT ON COLUMN core.price_ledger.computed_at IS 'When the price was computed (the push''s transaction).';

COMMENT ON TABLE core.channel_prices IS
    'One row per listing and price channel account: the price the channel last acknowledged (an accepted or delivered push) and the inputs it was computed from. A delta push sends the listings whose price or inputs differ.';
COMMENT ON COLUMN core.channel_prices.account_id IS 'The channel account (core.visible_accounts).';
COMMENT ON COLUMN core.channel_prices.product_id IS 'The store product (core.products).';
COMMENT ON COLUMN core.channel_prices.acknowledged_price IS 'The price the channel last acknowledged, in `currency`.';
COMMENT ON COLUMN core.channel_prices.currency IS 'ISO 4217 code of the acknowledged price.';
COMMENT ON COLUMN core.channel_prices.base_price IS 'The base price that price was computed from, in `currency`.';
COMMENT ON COLUMN core.channel_prices.base_source IS 'Where that base came from: store or catalog.';
COMMENT ON COLUMN core.channel_prices.rule_terms IS 'The rule''s terms it was computed with, as one text: markup|fixed_add|rounding|floor|ceiling (- for none)|currency.';
COMMENT ON COLUMN core.channel_prices.acknowledged_at IS 'When that answer was recorded.';
COMMENT ON COLUMN core.channel_prices.ledger_id IS 'The ledger row of the push it came from (core.price_ledger).';

-- ---------------------------------------------------------------- what the current user reads
COMMENT ON VIEW core.visible_stores IS
    'One row per store the current user reads: every store for the analyst role, the granted ones for a store role (marketsync analyst grant). Join it by store_id for the store''s code.';
COMMENT ON COLUMN core.visible_stores.store_id IS 'The store''s warehouse key (store_id in core tables).';
COMMENT ON COLUMN core.visible_stores.code IS 'The store''s code (lower case letters, digits, - and _), as the CLI and the analytics views name it (store).';
COMMENT ON COLUMN core.visible_stores.name IS 'The store''s display name; null when none was given.';
COMMENT ON COLUMN core.visible_stores.language_fallback IS 'The store''s languages in order of preference (default de, fr, en): titles and descriptions come from the first that has one.';

COMMENT ON VIEW core.visible_accounts IS
    'One row per channel account of the stores the current user reads: which store and channel an account_id in core belongs to.';
COMMENT ON COLUMN core.visible_accounts.account_id IS 'The account''s warehouse key (account_id in core tables).';
COMMENT ON COLUMN core.visible_accounts.store_id IS 'Its store (core.visible_stores).';
COMMENT ON COLUMN core.visible_accounts.channel IS 'Its channel: letzshop, amazon, ebay, storefront, codeswholesale, jtl_ffn, google_sheets, email, webhook, feed, or another declared channel.';

COMMENT ON VIEW core.visible_catalog_sources IS
    'One row per catalog source of the stores the current user reads: which store, name and kind a source_id in core belongs to.';
COMMENT ON COLUMN core.visible_catalog_sources.source_id IS 'The source''s warehouse key (core.marketplace_products.source_id).';
COMMENT ON COLUMN core.visible_catalog_sources.store_id IS 'Its store (core.visible_stores).';
COMMENT ON COLUMN core.visible_catalog_sources.name IS 'The source''s name, unique per store.';
COMMENT ON COLUMN core.visible_catalog_sources.kind IS 'letzshop_feed (Letzshop product feed), codeswholesale (the supplier''s API), pull_feed (a supplier feed we download) or push_feed (a supplier feed pushed to us).';
