-- The demo store's prices from an earlier demo run, so each run starts from no acknowledged price.
-- Statements run one by one (demo_world.run_statements): each ends with ';' at the end of its line.
DELETE FROM core.channel_prices WHERE account_id IN (SELECT account_id FROM ops.accounts WHERE store_id = :s);
DELETE FROM core.price_ledger WHERE account_id IN (SELECT account_id FROM ops.accounts WHERE store_id = :s);
DELETE FROM ops.price_syncs WHERE account_id IN (SELECT account_id FROM ops.accounts WHERE store_id = :s);
DELETE FROM ops.price_rules WHERE account_id IN (SELECT account_id FROM ops.accounts WHERE store_id = :s);
