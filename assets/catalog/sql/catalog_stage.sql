-- Staging tables for one batch of catalog rows; made once per connection, emptied at every commit.
CREATE TEMP TABLE IF NOT EXISTS stage_catalog (
    external_id text NOT NULL, gtin14 char(14), sku text, mpn text, brand text, price numeric(14, 4),
    currency char(3), availability text, quantity integer, product_type text, platform text,
    regions text[], languages text[], attributes jsonb, source_updated_at timestamptz
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_catalog_translations (
    external_id text NOT NULL, language text NOT NULL, title text, description text
) ON COMMIT DELETE ROWS;
