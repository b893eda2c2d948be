-- The merchantSku -> jfsku map as the fulfiller holds it now: changed rows rewritten, gone rows removed.
WITH upserted AS (
    INSERT INTO core.fulfillment_products AS p (account_id, jfsku, merchant_sku, name, gtin)
    SELECT DISTINCT ON (jfsku) :account_id, jfsku, merchant_sku, name, gtin FROM ffn_products ORDER BY jfsku
    ON CONFLICT (account_id, jfsku) DO UPDATE
        SET merchant_sku = excluded.merchant_sku, name = excluded.name, gtin = excluded.gtin, updated_at = now()
        WHERE (p.merchant_sku, p.name, p.gtin) IS DISTINCT FROM (excluded.merchant_sku, excluded.name, excluded.gtin)
    RETURNING 1
),
removed AS (
    DELETE FROM core.fulfillment_products p
    WHERE p.account_id = :account_id AND NOT EXISTS (SELECT 1 FROM ffn_products s WHERE s.jfsku = p.jfsku)
    RETURNING 1
)
SELECT (SELECT count(*) FROM upserted) AS written, (SELECT count(*) FROM removed) AS removed
