ALTER TABLE core.stock_ledger DROP CONSTRAINT stock_ledger_terms_add_up;
CREATE OR REPLACE FUNCTION core.listed_quantity(available integer, quantity_override integer, max_quantity integer,
                                                threshold integer, sync_zero_stock boolean)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN least(coalesce(quantity_override, available), max_quantity) <= threshold
                THEN CASE WHEN sync_zero_stock THEN 0 ELSE threshold END
                ELSE least(coalesce(quantity_override, available), max_quantity) END
$$;
-- Rows of unlisted listings (0 pushed) do not follow the old rule: not re-validated.
ALTER TABLE core.stock_ledger ADD CONSTRAINT stock_ledger_terms_add_up CHECK (
    available = ffn_on_hand - ffn_foreign_reserved + feed_quantity + manual_quantity
                - reserved - shipped_uncounted - safety_stock
    AND pushed_quantity = core.listed_quantity(available, quantity_override, max_quantity,
                                               out_of_stock_threshold, sync_zero_stock)) NOT VALID;
ALTER TABLE core.stock_ledger DROP COLUMN listed;
ALTER TYPE core.stock_terms DROP ATTRIBUTE listed;
