-- Views for customer support: who bought, where it goes, how to follow the parcel. Readable by the support
-- and store_support roles only (sql/analyst_role.sql); like the analytics views they keep to the stores
-- the current user reads (core.visible_stores) and are security barriers. Re-applied after every upgrade.

CREATE OR REPLACE VIEW support.order_contacts WITH (security_barrier) AS
SELECT o.order_id, s.code AS store, o.channel, o.order_number, o.channel_order_id, o.ordered_at,
       o.status, o.customer_name, o.customer_email, o.customer_locale,
       concat_ws(' ', sa.first_name, sa.last_name) AS ship_name, sa.company AS ship_company,
       concat_ws(' ', sa.street_name, sa.street_number) AS ship_street, sa.zip_code AS ship_postcode,
       sa.city AS ship_city, sa.country_iso AS ship_country, sa.phone AS ship_phone,
       concat_ws(' ', ba.first_name, ba.last_name) AS bill_name, ba.company AS bill_company,
       concat_ws(' ', ba.street_name, ba.street_number) AS bill_street, ba.zip_code AS bill_postcode,
       ba.city AS bill_city, ba.country_iso AS bill_country,
       o.tracking_carrier, o.tracking_number, o.tracking_url, o.shipped_at, o.personal_data_removed_at
FROM core.orders o
JOIN core.visible_stores s USING (store_id)
LEFT JOIN core.order_addresses sa ON sa.order_id = o.order_id AND sa.kind = 'shipping'
LEFT JOIN core.order_addresses ba ON ba.order_id = o.order_id AND ba.kind = 'billing';

COMMENT ON VIEW support.order_contacts IS
    'Grain: one row per order. Who bought it, where it ships and is billed, and how to follow the parcel: for answering a buyer. Personal data: readable by the support roles only. Empty personal fields after the buyer''s data was erased or expired (personal_data_removed_at). Changes with every import of the order.';
COMMENT ON COLUMN support.order_contacts.order_id IS 'The order (core.orders.order_id).';
COMMENT ON COLUMN support.order_contacts.store IS 'The store''s code (ops.stores.code).';
COMMENT ON COLUMN support.order_contacts.channel IS 'The channel the order came from: letzshop, amazon, ebay or storefront.';
COMMENT ON COLUMN support.order_contacts.order_number IS 'The order number the buyer sees, as the channel gives it.';
COMMENT ON COLUMN support.order_contacts.channel_order_id IS 'The channel''s own id of the order.';
COMMENT ON COLUMN support.order_contacts.ordered_at IS 'When the buyer placed the order, as the channel reports it.';
COMMENT ON COLUMN support.order_contacts.status IS 'The order''s cross-channel status (core.orders.status).';
COMMENT ON COLUMN support.order_contacts.customer_name IS 'Personal data: the buyer''s name as the channel gives it.';
COMMENT ON COLUMN support.order_contacts.customer_email IS 'Personal data: the buyer''s e-mail address (on Amazon and eBay a relay address of the marketplace).';
COMMENT ON COLUMN support.order_contacts.customer_locale IS 'The buyer''s language for messages (e.g. fr, de-DE), where the channel gives one.';
COMMENT ON COLUMN support.order_contacts.ship_name IS 'Personal data: the recipient''s first and last name.';
COMMENT ON COLUMN support.order_contacts.ship_company IS 'Personal data: the recipient''s company, if any.';
COMMENT ON COLUMN support.order_contacts.ship_street IS 'Personal data: the shipping street and house number.';
COMMENT ON COLUMN support.order_contacts.ship_postcode IS 'Personal data: the shipping postcode.';
COMMENT ON COLUMN support.order_contacts.ship_city IS 'Personal data: the shipping town or city.';
COMMENT ON COLUMN support.order_contacts.ship_country IS 'The shipping country, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN support.order_contacts.ship_phone IS 'Personal data: the recipient''s telephone number, if the channel gives one.';
COMMENT ON COLUMN support.order_contacts.bill_name IS 'Personal data: the billing first and last name.';
COMMENT ON COLUMN support.order_contacts.bill_company IS 'Personal data: the billing company, if any.';
COMMENT ON COLUMN support.order_contacts.bill_street IS 'Personal data: the billing street and house number.';
COMMENT ON COLUMN support.order_contacts.bill_postcode IS 'Personal data: the billing postcode.';
COMMENT ON COLUMN support.order_contacts.bill_city IS 'Personal data: the billing town or city.';
COMMENT ON COLUMN support.order_contacts.bill_country IS 'The billing country, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN support.order_contacts.tracking_carrier IS 'The carrier the parcel was handed to (e.g. DHL, greco), once shipped.';
COMMENT ON COLUMN support.order_contacts.tracking_number IS 'Personal data: the parcel''s tracking number (the carrier''s site shows the recipient''s town with it).';
COMMENT ON COLUMN support.order_contacts.tracking_url IS 'Personal data: the carrier''s tracking page of the parcel.';
COMMENT ON COLUMN support.order_contacts.shipped_at IS 'When the order was marked shipped.';
COMMENT ON COLUMN support.order_contacts.personal_data_removed_at IS 'When the buyer''s personal data was removed (erasure request or retention); NULL while it is kept.';
