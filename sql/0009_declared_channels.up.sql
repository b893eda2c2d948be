-- The channels an account may be of are the channels the code declares (assets/<channel>/channel.py),
-- kept in ops.channels, no longer a list written into a CHECK constraint: a new channel is a new
-- package, recorded here when its first account is added, with no migration of its own.
CREATE TABLE ops.channels (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,39}$'),
    label       text NOT NULL CHECK (length(label) BETWEEN 1 AND 80),
    recorded_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE ops.channels IS
    'The channels marketsync knows (marketplaces, suppliers, the fulfiller, sheets, feeds), as the code declares them; every account is of one.';

INSERT INTO ops.channels (name, label) VALUES
    ('letzshop', 'Letzshop'), ('amazon', 'Amazon'), ('ebay', 'eBay'), ('codeswholesale', 'CodesWholesale'),
    ('jtl_ffn', 'JTL-FFN'), ('google_sheets', 'Google Sheets'), ('feed', 'supplier feed');

ALTER TABLE ops.accounts DROP CONSTRAINT accounts_channel_check;
ALTER TABLE ops.accounts ADD CONSTRAINT accounts_channel_fkey FOREIGN KEY (channel) REFERENCES ops.channels (name);
