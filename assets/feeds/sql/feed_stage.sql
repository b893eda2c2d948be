-- One feed's rows as the loader wrote them: text, already checked in Python, cast to their column
-- types only for the rows that change the catalog. Postgres computes each row's content hash
-- (everything but the id and the source's timestamp) while the COPY streams in. The hash only tells
-- "changed" from "unchanged" for one product: a 64-bit hash (a wrong "unchanged" once in 2^64
-- changed rows) costs a third less than md5 on the COPY's hot path. The translation columns and the
-- hashed expression are filled in from the number of languages the mapping names (column names
-- marketsync makes: title_1, description_1, ...; never text from the mapping).
CREATE TEMP TABLE feed_stage (
    part smallint NOT NULL, external_id text NOT NULL, gtin14 text, sku text, mpn text, brand text, price text, currency text,
    availability text, quantity text, product_type text, platform text, regions text, languages text,
    attributes text, source_updated_at text{translation_columns},
    content_sha text GENERATED ALWAYS AS (CAST(hashtextextended({hashed}, 0) AS text)) STORED
) ON COMMIT DROP;
-- The rows that change the catalog (by their place in the stage), and those that were written.
CREATE TEMP TABLE feed_changes (
    row_ref tid NOT NULL, external_id text NOT NULL, marketplace_product_id bigint, stale boolean NOT NULL
) ON COMMIT DROP;
CREATE TEMP TABLE feed_written (
    marketplace_product_id bigint NOT NULL, row_ref tid NOT NULL, inserted boolean NOT NULL
) ON COMMIT DROP;
