-- A supplier's description is kept as written, HTML included; its plain text (tags removed, entities
-- decoded, paragraphs and list items as lines) sits beside it for channels and analysts that need text.
-- NULL where the description is plain text already.
ALTER TABLE core.marketplace_product_translations ADD COLUMN description_text text;
COMMENT ON COLUMN core.marketplace_product_translations.description_text IS
    'The description as plain text where the source gave HTML (tags removed, entities decoded); NULL when the description is plain text already.';
