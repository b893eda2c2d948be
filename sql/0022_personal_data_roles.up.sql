-- Personal data by role. Analysts count buyers and map sales without reading who the buyers are: each
-- order carries a pseudonymous buyer key (a keyed hash of the buyer's e-mail address, with a key of the
-- store's own, so a repeat buyer has one key within a store and nobody without the key can reverse it or
-- link buyers across stores), and each address its postcode area. The columns that say who a buyer is
-- stay readable by the support roles only (column privileges, sql/analyst_role.sql).

CREATE SCHEMA IF NOT EXISTS support;
COMMENT ON SCHEMA support IS
    'Views with buyers'' personal data (names, e-mail addresses, postal addresses, tracking numbers) for customer support: readable by the support and store_support roles only, never by analysts.';

-- The key behind each store's buyer keys, as the two HMAC-SHA256 pads (the key XOR 0x36 and XOR 0x5c,
-- padded to the 64-byte block), so the hash needs no extension: sha256(outer || sha256(inner || message)).
-- In ops, which no analyst reads; whoever holds it and an e-mail address can compute that buyer's key.
CREATE TABLE ops.buyer_pseudonym_keys (
    store_id   bigint PRIMARY KEY REFERENCES ops.stores ON DELETE CASCADE,
    inner_pad  bytea NOT NULL CHECK (length(inner_pad) = 64),
    outer_pad  bytea NOT NULL CHECK (length(outer_pad) = 64),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The store's pads, made on first use from 32 bytes of the server's strong random source (each
-- gen_random_uuid() holds 122 random bits). Concurrent first uses agree: the first insert wins.
CREATE FUNCTION ops.buyer_pseudonym_pads(p_store_id bigint, OUT inner_pad bytea, OUT outer_pad bytea)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    secret bytea;
    i int;
BEGIN
    SELECT k.inner_pad, k.outer_pad INTO inner_pad, outer_pad FROM ops.buyer_pseudonym_keys k
    WHERE k.store_id = p_store_id;
    IF FOUND THEN
        RETURN;
    END IF;
    secret := decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex')
              || decode(repeat('00', 32), 'hex');
    inner_pad := secret;
    outer_pad := secret;
    FOR i IN 0 .. 63 LOOP
        inner_pad := set_byte(inner_pad, i, get_byte(secret, i) # 54);  -- 0x36
        outer_pad := set_byte(outer_pad, i, get_byte(secret, i) # 92);  -- 0x5c
    END LOOP;
    INSERT INTO ops.buyer_pseudonym_keys (store_id, inner_pad, outer_pad)
    VALUES (p_store_id, inner_pad, outer_pad) ON CONFLICT (store_id) DO NOTHING;
    SELECT k.inner_pad, k.outer_pad INTO inner_pad, outer_pad FROM ops.buyer_pseudonym_keys k
    WHERE k.store_id = p_store_id;
    IF NOT FOUND THEN
        -- another transaction made the key first and this one's snapshot cannot see it (REPEATABLE READ):
        -- an error to retry, never a key of NULL
        RAISE EXCEPTION 'the store''s buyer key was made by a concurrent transaction: retry'
            USING ERRCODE = 'serialization_failure';
    END IF;
END
$$;

-- The buyer key of an e-mail address in a store: HMAC-SHA256 of the address trimmed and lower-cased,
-- its first 16 bytes in hex. NULL without an address. Nobody but the owner may call it (PUBLIC's EXECUTE
-- is revoked): with it, anyone could test whether a given address bought in a store.
CREATE FUNCTION ops.buyer_key(p_store_id bigint, p_email text) RETURNS text
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN nullif(btrim(p_email), '') IS NOT NULL THEN
        encode(substring(sha256(p.outer_pad || sha256(p.inner_pad || convert_to(lower(btrim(p_email)), 'UTF8')))
                         FROM 1 FOR 16), 'hex') END
    FROM ops.buyer_pseudonym_pads(p_store_id) p
$$;
REVOKE EXECUTE ON FUNCTION ops.buyer_pseudonym_pads(bigint), ops.buyer_key(bigint, text) FROM PUBLIC;

ALTER TABLE core.orders ADD COLUMN buyer_key text CHECK (buyer_key ~ '^[0-9a-f]{32}$');

-- The orders so far, once. A buyer key is neither a status nor stock: the statement triggers that record
-- those would only scan every order to find nothing changed.
ALTER TABLE core.orders DISABLE TRIGGER status_history_updates, DISABLE TRIGGER stock_change_update;
UPDATE core.orders SET buyer_key = ops.buyer_key(store_id, customer_email) WHERE customer_email IS NOT NULL;
ALTER TABLE core.orders ENABLE TRIGGER status_history_updates, ENABLE TRIGGER stock_change_update;

-- From now on every write of an order keeps its buyer key in step with its e-mail address, and drops it
-- with the address when the buyer's personal data is removed (the trigger runs after keep_erased: triggers
-- of one event run in name order). A key written by hand is overwritten.
CREATE FUNCTION ops.set_buyer_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.customer_email IS DISTINCT FROM OLD.customer_email
       OR NEW.store_id IS DISTINCT FROM OLD.store_id OR NEW.buyer_key IS DISTINCT FROM OLD.buyer_key THEN
        NEW.buyer_key := ops.buyer_key(NEW.store_id, NEW.customer_email);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER set_buyer_key BEFORE INSERT OR UPDATE ON core.orders
    FOR EACH ROW EXECUTE FUNCTION ops.set_buyer_key();

-- Counting a store's repeat buyers.
CREATE INDEX orders_store_buyer ON core.orders (store_id, buyer_key) WHERE buyer_key IS NOT NULL;

-- A postcode's area: coarse enough to say nothing of one household, fine enough for a map.
CREATE FUNCTION core.postcode_area(country_iso text, postcode text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN p = '' THEN NULL
        -- the United Kingdom and the Crown dependencies: the postcode area, its leading letters (SW, M, EH)
        WHEN upper(country_iso) IN ('GB', 'UK', 'IM', 'JE', 'GG') THEN substring(p FROM '^[A-Z]{1,2}(?=[0-9])')
        -- Ireland: the Eircode routing key (D02, A65)
        WHEN upper(country_iso) = 'IE' THEN substring(p FROM '^[A-Z][0-9][0-9W]')
        -- Canada: the postal district, the first letter
        WHEN upper(country_iso) = 'CA' THEN substring(p FROM '^[A-Z](?=[0-9])')
        -- elsewhere the first two digits of a numeric code, after a country prefix (L-1234, D-10115)
        ELSE substring(regexp_replace(p, '^[A-Z]{1,3}-', '') FROM '^[0-9]{2}(?=[0-9])')
    END
    FROM (SELECT upper(regexp_replace(btrim(postcode), '\s+', '', 'g')) AS p) n
$$;

ALTER TABLE core.order_addresses
    ADD COLUMN postcode_area text GENERATED ALWAYS AS (core.postcode_area(country_iso, zip_code)) STORED;

-- The support roles read every store, like the analyst role (store_support: the granted ones).
CREATE OR REPLACE FUNCTION core.sees_every_store(p_role name) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT EXISTS (SELECT FROM pg_catalog.pg_roles r
                   WHERE r.rolname IN ('analyst', 'support') AND pg_catalog.pg_has_role(p_role, r.oid, 'USAGE'))
        OR pg_catalog.pg_has_role(p_role, (SELECT c.relowner FROM pg_catalog.pg_class c
                                           WHERE c.oid = 'core.orders'::regclass), 'USAGE')
$$;

-- analytics.orders loses its personal columns (support.orders keeps them); a view cannot drop columns in
-- place, so it goes and the repeatable views make it again.
DROP VIEW IF EXISTS analytics.orders;

COMMENT ON COLUMN core.orders.buyer_key IS
    'The buyer, pseudonymous: a keyed hash (HMAC-SHA256) of the buyer''s e-mail address with a key of the store''s own, the same for every order of one buyer in one store and different in another store; nobody without the key can reverse it. Count repeat buyers with it. NULL when the order has no e-mail address or the buyer''s personal data was removed. Set by the database on every write of the order.';
COMMENT ON COLUMN core.order_addresses.postcode_area IS
    'The postcode''s area, for geography without the address: the first two digits of a numeric postcode (after a prefix such as L-), the letters of a UK postcode area (SW), the routing key of an Irish Eircode (D02), the first letter of a Canadian one. NULL where the postcode is missing, removed or of another form. Derived by the database from zip_code and country_iso.';

-- The raw and ops tables that assets are stored in, described for the Dagster catalog (dagster/column_schema
-- carries these comments; analysts read neither schema).
COMMENT ON TABLE raw.letzshop_shipments IS
    'Grain: one row per version of a Letzshop shipment payload. Every payload exactly as the Letzshop GraphQL API returned it, kept for replay and audit; a version already held is not stored again. Personal data in the payload is scrubbed on erasure and retention.';
COMMENT ON COLUMN raw.letzshop_shipments.raw_id IS 'The row''s id, in the order received.';
COMMENT ON COLUMN raw.letzshop_shipments.account_id IS 'The store''s Letzshop account it was read with (ops.accounts).';
COMMENT ON COLUMN raw.letzshop_shipments.shipment_id IS 'Letzshop''s id of the shipment (core.orders.channel_shipment_id).';
COMMENT ON COLUMN raw.letzshop_shipments.payload IS 'The shipment as the API returned it (JSON); buyers'' personal data removed once erased or expired.';
COMMENT ON COLUMN raw.letzshop_shipments.payload_sha IS 'SHA-256 of the payload as JSON with sorted keys and no whitespace: identifies the version.';
COMMENT ON COLUMN raw.letzshop_shipments.received_at IS 'When this version was read from the API.';
COMMENT ON COLUMN raw.letzshop_shipments.run_id IS 'The Dagster run that read it, if a run did.';

COMMENT ON TABLE raw.inbound_sheet_rows IS
    'Grain: one row per row of a store''s inbound control sheet (Google Sheets), as last read. The operations team''s expected deliveries to the JTL-FFN warehouse; replaced by every read.';
COMMENT ON COLUMN raw.inbound_sheet_rows.store_id IS 'The store whose sheet it is (ops.stores).';
COMMENT ON COLUMN raw.inbound_sheet_rows.row_number IS 'The row''s number in the sheet (1 is the header row).';
COMMENT ON COLUMN raw.inbound_sheet_rows.cells IS 'The row''s cells as read, by column header (JSON).';
COMMENT ON COLUMN raw.inbound_sheet_rows.read_at IS 'When the sheet was read.';

COMMENT ON TABLE ops.inbound_checks IS
    'Grain: one row per check of a store''s inbound control sheet against what JTL-FFN received. rows_checked = matched + mismatched + problems.';
COMMENT ON COLUMN ops.inbound_checks.check_id IS 'The check''s id.';
COMMENT ON COLUMN ops.inbound_checks.store_id IS 'The store whose sheet was checked (ops.stores).';
COMMENT ON COLUMN ops.inbound_checks.run_id IS 'The Dagster run that checked it, if a run did.';
COMMENT ON COLUMN ops.inbound_checks.checked_at IS 'When the check ran.';
COMMENT ON COLUMN ops.inbound_checks.rows_checked IS 'Sheet rows checked (rows).';
COMMENT ON COLUMN ops.inbound_checks.matched IS 'Rows whose expected units equal the units received (written back as MATCH).';
COMMENT ON COLUMN ops.inbound_checks.mismatched IS 'Rows whose expected units differ from the units received (written back as MISMATCH).';
COMMENT ON COLUMN ops.inbound_checks.problems IS 'Rows that could not be checked (no such delivery, unreadable units, ...), each written back with its reason.';
COMMENT ON COLUMN ops.inbound_checks.cells_written IS 'Result cells written back to the sheet in the batch update.';
COMMENT ON COLUMN ops.inbound_checks.error IS 'Why the check failed as a whole, if it did; NULL when it completed.';
