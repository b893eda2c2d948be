-- The store's confirmed marketplace orders not handed to the warehouse yet, with one line per SKU
-- mapped to the fulfiller's jfsku (a unit whose SKU the warehouse does not know has jfsku NULL). Items
-- are units (Letzshop) or lines with a quantity (Amazon, eBay); units the marketplace ships from its own
-- warehouse (Amazon FBA), digital products (their keys go by e-mail: assets/digital) and orders the
-- channel cancelled or refunded are never handed over; an order of digital products only has no lines.
SELECT o.order_id, coalesce(o.shipment_number, o.order_number) AS merchant_outbound_number, o.channel,
       o.order_number, o.currency, o.total, o.customer_email,
       a.first_name, a.last_name, a.company, a.street_name, a.street_number, a.zip_code, a.city, a.country_iso,
       a.phone, i.sku, p.jfsku, sum(i.quantity) AS quantity, max(i.title) AS title, max(i.unit_price) AS unit_price
FROM core.orders o
JOIN core.order_items i ON i.order_id = o.order_id
     AND i.channel_state NOT IN ('confirmed_unavailable', 'declined', 'cancelled', 'FULFILLED_BY_AMAZON')
     AND NOT EXISTS (SELECT 1 FROM ops.digital_products d WHERE d.product_id = i.product_id)
LEFT JOIN core.order_addresses a ON a.order_id = o.order_id AND a.kind = 'shipping'
LEFT JOIN core.fulfillment_products p ON p.account_id = :ffn_account_id AND p.merchant_sku = i.sku
WHERE o.store_id = :store_id AND o.sync_status = 'confirmed' AND o.channel <> 'jtl_ffn'
  AND o.status IS DISTINCT FROM 'cancelled' AND o.status IS DISTINCT FROM 'refunded'
  AND NOT EXISTS (SELECT 1 FROM core.fulfillment_outbounds f
                  WHERE f.account_id = :ffn_account_id
                    AND f.merchant_outbound_number = coalesce(o.shipment_number, o.order_number))
GROUP BY o.order_id, a.order_id, a.kind, i.sku, p.jfsku
ORDER BY o.order_id, i.sku
