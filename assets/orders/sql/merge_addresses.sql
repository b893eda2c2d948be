INSERT INTO core.order_addresses AS a (
    order_id, kind, first_name, last_name, company, street_name, street_number, zip_code, city,
    country_iso, country_name, phone)
SELECT o.order_id, s.kind, s.first_name, s.last_name, s.company, s.street_name, s.street_number,
       s.zip_code, s.city, s.country_iso, s.country_name, s.phone
FROM stage_addresses s
JOIN core.orders o ON o.account_id = s.account_id AND o.channel_shipment_id = s.channel_shipment_id
ORDER BY o.order_id, s.kind
ON CONFLICT (order_id, kind) DO UPDATE SET
    first_name = excluded.first_name, last_name = excluded.last_name, company = excluded.company,
    street_name = excluded.street_name, street_number = excluded.street_number, zip_code = excluded.zip_code,
    city = excluded.city, country_iso = excluded.country_iso, country_name = excluded.country_name,
    phone = excluded.phone;
