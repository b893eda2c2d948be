-- Stock out, as merchants expect it (issue 11):
-- * A listing a rule takes off a channel (`stock rule --unlist`) is sent 0 once, so the channel stops
--   selling it; once the channel acknowledged that 0 it is no listing there any more and gets no updates.
--   The ledger row of that 0 says so (listed = false).
-- * "Sync when stock = 0" (sync_zero_stock) says whether zeros are sent, never a higher number: at or
--   below the out-of-stock threshold a listing gets 0 (on) or is not pushed at all (off: the channel
--   keeps the number it last acknowledged). core.listed_quantity answers null for "not pushed".

ALTER TABLE core.stock_ledger ADD COLUMN listed boolean NOT NULL DEFAULT true;
ALTER TYPE core.stock_terms ADD ATTRIBUTE listed boolean;

CREATE OR REPLACE FUNCTION core.listed_quantity(available integer, quantity_override integer, max_quantity integer,
                                                threshold integer, sync_zero_stock boolean)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN least(coalesce(quantity_override, available), max_quantity) <= threshold
                THEN CASE WHEN sync_zero_stock THEN 0 END
                ELSE least(coalesce(quantity_override, available), max_quantity) END
$$;

-- The formula, re-proved on every new row: the terms add up to the availability, and the number pushed
-- is what the rule gives (0 for a listing a rule took off the channel). IS NOT DISTINCT FROM, not =: a
-- CHECK that evaluates to null passes, and the rule's null ("not pushed") must never pass for a number.
-- NOT VALID: rows written before this revision followed the rule of their time (the threshold itself
-- with sync_zero_stock off) and stay as they were pushed.
ALTER TABLE core.stock_ledger DROP CONSTRAINT stock_ledger_terms_add_up;
ALTER TABLE core.stock_ledger ADD CONSTRAINT stock_ledger_terms_add_up CHECK (
    available = ffn_on_hand - ffn_foreign_reserved + feed_quantity + manual_quantity
                - reserved - shipped_uncounted - safety_stock
    AND pushed_quantity IS NOT DISTINCT FROM
        CASE WHEN listed THEN core.listed_quantity(available, quantity_override, max_quantity,
                                                   out_of_stock_threshold, sync_zero_stock)
             ELSE 0 END) NOT VALID;
