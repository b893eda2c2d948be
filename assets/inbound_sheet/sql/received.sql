-- What the fulfiller holds for one FFN account, by merchant SKU: units received over every inbound,
-- per inbound (named by its id or the merchant's own inbound number), and in stock over all warehouses.
SELECT 'sku' AS kind, NULL AS inbound, coalesce(i.merchant_sku, p.merchant_sku) AS merchant_sku, sum(i.received) AS units
FROM core.fulfillment_inbound_items i
LEFT JOIN core.fulfillment_products p ON p.account_id = i.account_id AND p.jfsku = i.jfsku
WHERE i.account_id = :account_id
GROUP BY 3
UNION ALL
SELECT 'inbound', r.reference, coalesce(i.merchant_sku, p.merchant_sku), sum(i.received)
FROM core.fulfillment_inbound_items i
JOIN core.fulfillment_inbounds b ON b.account_id = i.account_id AND b.inbound_id = i.inbound_id
CROSS JOIN LATERAL (VALUES (b.inbound_id), (b.merchant_inbound_number)) AS r(reference)
LEFT JOIN core.fulfillment_products p ON p.account_id = i.account_id AND p.jfsku = i.jfsku
WHERE i.account_id = :account_id AND r.reference IS NOT NULL
GROUP BY 2, 3
UNION ALL
SELECT 'stock', NULL, p.merchant_sku, sum(s.stock_level)
FROM core.fulfillment_stock s
JOIN core.fulfillment_products p ON p.account_id = s.account_id AND p.jfsku = s.jfsku
WHERE s.account_id = :account_id
GROUP BY 3
UNION ALL
SELECT 'known_sku', NULL, merchant_sku, NULL FROM core.fulfillment_products WHERE account_id = :account_id
UNION ALL
SELECT 'known_inbound', r.reference, NULL, NULL
FROM core.fulfillment_inbounds b
CROSS JOIN LATERAL (VALUES (b.inbound_id), (b.merchant_inbound_number)) AS r(reference)
WHERE b.account_id = :account_id AND r.reference IS NOT NULL
