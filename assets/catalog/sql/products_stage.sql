-- One CSV import's accepted rows, before they are compared with the catalog. Dropped at commit, and
-- dropped first so a second import inside the same transaction starts from an empty table.
DROP TABLE IF EXISTS pg_temp.product_stage;
CREATE TEMP TABLE product_stage (
    sku        text NOT NULL,
    gtin14     char(14),
    title      text,
    attribute_values text  -- the optional columns' values, joined by U+001F; null when there are none
) ON COMMIT DROP;
