DROP TABLE core.channel_prices;
DROP TABLE core.price_ledger;
DROP TABLE ops.price_syncs;
DROP TABLE ops.price_rules;
