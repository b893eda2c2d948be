-- Removing buyers' personal data from documents (raw payloads, outbound payloads, quarantined records),
-- and the triggers that keep an order whose buyer was erased or expired without it when the channel
-- sends it again. Used by erasure and retention (assets/privacy) and safe to re-run.

-- True when `value` contains one of the buyer's own values (their name, e-mail address, street, ...).
CREATE OR REPLACE FUNCTION ops.mentions_personal(value text, known text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT value IS NOT NULL AND EXISTS (
        SELECT FROM unnest(known) k WHERE length(k) >= 3 AND strpos(lower(value), lower(k)) > 0)
$$;

-- One node of a document without personal data (see scrub_personal_json); `known` is lower-cased and
-- holds only the values the whole document contains. Written as a loop of plain expressions (a
-- statement or a function call per key would cost several times more: retention cleans millions).
--
-- Which keys hold personal data, whatever the channel (the key lower-cased, without _ and -): a
-- "container" (an address, the buyer, the recipient) is personal as a whole except for the keys kept
-- (country and currency, which analysts keep); a "leaf" key is personal wherever it stands. Written
-- from the order payloads of Letzshop, Amazon SP-API, eBay Fulfillment and JTL-FFN; the canary tests
-- prove them on every channel's order path.
CREATE OR REPLACE FUNCTION ops.scrub_personal_node(doc jsonb, known text[], inside boolean) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    result jsonb;
    member record;
    key text;
    kind text;
    item jsonb;
    k text;
    mentioned boolean;
BEGIN
    IF NOT inside AND jsonb_typeof(doc) IN ('object', 'array') AND cardinality(known) = 0
       AND doc::text !~* ('(address|buyer|customer|recipient|ship[_-]?to|bill[_-]?to|contact|consignee|receiver'
                          '|mail|phone|mobile|fax|name|company|street|postal|post[_-]?code|zip|city|tax|vat|birth)') THEN
        RETURN doc;  -- nothing personal below: no key of it could be one (the common case of line items)
    END IF;
    CASE jsonb_typeof(doc)
    WHEN 'object' THEN
        result := '{}';
        FOR member IN SELECT e.key, e.value FROM jsonb_each(doc) e LOOP
            key := replace(replace(lower(member.key), '_', ''), '-', '');
            kind := CASE
                WHEN key ~ '^(country|currency)' THEN 'kept'
                WHEN key ~ '(address|buyer|customer|recipient|shipto|billto|contact|consignee|receiver)'
                    THEN 'container'
                WHEN key ~ ('(mail|phone|mobile|fax|firstname|lastname|fullname|surname|givenname|familyname'
                            '|username|company|street|addressline|postalcode|postcode|zip|city|taxid|vatid'
                            '|vatnumber|birth)') THEN 'leaf'
                END;
            IF kind = 'kept' THEN
                result := result || jsonb_build_object(member.key, member.value);
            ELSIF kind = 'leaf' AND jsonb_typeof(member.value) IN ('string', 'number') THEN
                result := result || jsonb_build_object(member.key, '[removed]');
            ELSIF jsonb_typeof(member.value) IN ('object', 'array', 'string', 'number') THEN
                result := result || jsonb_build_object(member.key,
                    ops.scrub_personal_node(member.value, known, inside OR kind IS NOT NULL));
            ELSE
                result := result || jsonb_build_object(member.key, member.value);
            END IF;
        END LOOP;
        RETURN result;
    WHEN 'array' THEN
        result := '[]';
        FOR item IN SELECT e FROM jsonb_array_elements(doc) e LOOP
            result := result || jsonb_build_array(ops.scrub_personal_node(item, known, inside));
        END LOOP;
        RETURN result;
    WHEN 'string' THEN
        IF inside THEN
            RETURN '"[removed]"';
        END IF;
        mentioned := false;
        FOREACH k IN ARRAY known LOOP
            mentioned := mentioned OR strpos(lower(doc #>> '{}'), k) > 0;
        END LOOP;
        RETURN CASE WHEN mentioned THEN '"[removed]"'::jsonb ELSE doc END;
    WHEN 'number' THEN
        RETURN CASE WHEN inside THEN '"[removed]"'::jsonb ELSE doc END;
    ELSE
        RETURN doc;
    END CASE;
END
$$;

-- `doc` without personal data: every value under a personal key, and every string that mentions one of
-- the buyer's values (`known`), becomes "[removed]"; the structure, ids, amounts, dates and countries stay.
CREATE OR REPLACE FUNCTION ops.scrub_personal_json(doc jsonb, known text[] DEFAULT '{}') RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ops.scrub_personal_node(doc, ARRAY(
        SELECT lower(k) FROM unnest(known) k
        WHERE length(k) >= 3 AND strpos(lower(doc::text), lower(k)) > 0), false)
$$;

-- `value` (free text) with every mention of the buyer's values replaced.
CREATE OR REPLACE FUNCTION ops.scrub_personal_text(value text, known text[]) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    k text;
    at integer;
BEGIN
    IF NOT ops.mentions_personal(value, known) THEN
        RETURN value;
    END IF;
    FOREACH k IN ARRAY known LOOP
        CONTINUE WHEN length(k) < 3;
        at := strpos(lower(value), lower(k));
        WHILE at > 0 LOOP
            value := overlay(value PLACING '[removed]' FROM at FOR length(k));
            at := strpos(lower(value), lower(k));
        END LOOP;
    END LOOP;
    RETURN value;
END
$$;

-- A quarantined record (text that is usually a JSON document) without personal data.
CREATE OR REPLACE FUNCTION ops.scrub_personal_record(value text, known text[]) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN ops.scrub_personal_json(value::jsonb, known)::text;
EXCEPTION WHEN invalid_text_representation THEN
    -- Not JSON (a CSV line, a cut-off document): nothing of it can be told apart, so none of it stays.
    RETURN '[removed: personal data]';
END
$$;

-- The buyer values of orders (their e-mail address, name, street, phone, company): what a free-text
-- column or a string in a payload is searched for when those orders' personal data is removed.
CREATE OR REPLACE FUNCTION ops.personal_values(p_order_id bigint) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(DISTINCT v) FILTER (WHERE length(v) >= 3), '{}')
    FROM (
        SELECT unnest(ARRAY[o.customer_email, o.customer_name]) AS v FROM core.orders o WHERE o.order_id = p_order_id
        UNION ALL
        SELECT unnest(ARRAY[a.first_name, a.last_name, concat_ws(' ', a.first_name, a.last_name), a.company,
                            a.street_name, concat_ws(' ', a.street_name, a.street_number), a.phone])
        FROM core.order_addresses a WHERE a.order_id = p_order_id
    ) x
$$;

-- ------------------------------------------------------------------ erased buyers stay erased
-- An order whose personal data was removed takes none back when the channel sends it again: its
-- canonical row, its addresses, each new raw version and a quarantined copy arrive without it.
CREATE OR REPLACE FUNCTION ops.keep_order_personal_data_removed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.personal_data_removed_at IS NOT NULL THEN
        NEW.customer_email := NULL;
        NEW.customer_name := NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER keep_erased BEFORE INSERT OR UPDATE ON core.orders
    FOR EACH ROW EXECUTE FUNCTION ops.keep_order_personal_data_removed();

CREATE OR REPLACE FUNCTION ops.keep_address_personal_data_removed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM core.orders o
               WHERE o.order_id = NEW.order_id AND o.personal_data_removed_at IS NOT NULL) THEN
        NEW.first_name := NULL; NEW.last_name := NULL; NEW.company := NULL; NEW.street_name := NULL;
        NEW.street_number := NULL; NEW.zip_code := NULL; NEW.city := NULL; NEW.phone := NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER keep_erased BEFORE INSERT OR UPDATE ON core.order_addresses
    FOR EACH ROW EXECUTE FUNCTION ops.keep_address_personal_data_removed();

-- Raw payloads are keyed by the channel's id of the order (TG_ARGV[0] names the column). The column is
-- read by name per table rather than through to_jsonb(NEW), which would copy the whole payload for
-- every row landed (plpgsql resolves NEW's fields per table, so the branches not taken cost nothing).
CREATE OR REPLACE FUNCTION ops.keep_payload_personal_data_removed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ref text;
BEGIN
    IF TG_ARGV[0] = 'channel_order_id' THEN
        ref := NEW.channel_order_id;
    ELSIF TG_ARGV[0] = 'shipment_id' THEN
        ref := NEW.shipment_id;
    ELSE
        ref := NEW.record_ref;
    END IF;
    IF EXISTS (SELECT FROM core.orders o
               WHERE o.account_id = NEW.account_id AND o.channel_shipment_id = ref
                 AND o.personal_data_removed_at IS NOT NULL) THEN
        IF TG_TABLE_NAME = 'quarantine' THEN
            NEW.raw_text := ops.scrub_personal_record(NEW.raw_text, '{}');
        ELSE
            NEW.payload := ops.scrub_personal_json(NEW.payload);
        END IF;
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER keep_erased BEFORE INSERT ON raw.letzshop_shipments
    FOR EACH ROW EXECUTE FUNCTION ops.keep_payload_personal_data_removed('shipment_id');
CREATE OR REPLACE TRIGGER keep_erased BEFORE INSERT ON raw.channel_orders
    FOR EACH ROW EXECUTE FUNCTION ops.keep_payload_personal_data_removed('channel_order_id');
CREATE OR REPLACE TRIGGER keep_erased BEFORE INSERT ON ops.quarantine
    FOR EACH ROW EXECUTE FUNCTION ops.keep_payload_personal_data_removed('record_ref');
