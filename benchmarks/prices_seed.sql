-- The prices benchmark's store: :listings products (SKUs staged in bench_price_skus, the Amazon simulator's
-- own, so its feeds know them), each with a catalog price from a supplier feed; half of them with a store
-- price of their own as well (the store's price wins); every one already listed on Amazon (an
-- acknowledged stock number: Amazon prices what it lists).
INSERT INTO ops.catalog_sources (store_id, name, kind, format) VALUES (:store_id, 'supplier', 'pull_feed', 'csv');
INSERT INTO core.marketplace_products (source_id, external_id, sku, price, currency, content_sha)
SELECT s.source_id, 'E' || b.n, b.sku, 5 + (b.n::bigint * 7919) % 20000 / 100.0, 'EUR', md5(b.n::text)
FROM ops.catalog_sources s, bench_price_skus b WHERE s.name = 'supplier';
INSERT INTO core.products (store_id, sku, marketplace_product_id, price, currency)
SELECT :store_id, m.sku, m.marketplace_product_id,
       CASE WHEN m.marketplace_product_id % 2 = 0 THEN m.price + 1.50 END,
       CASE WHEN m.marketplace_product_id % 2 = 0 THEN 'EUR' END
FROM core.marketplace_products m ORDER BY m.marketplace_product_id;
INSERT INTO core.channel_stock (account_id, product_id, acknowledged_quantity, acknowledged_at)
SELECT :account_id, p.product_id, 3, now() FROM core.products p WHERE p.store_id = :store_id;
DROP TABLE bench_price_skus;
