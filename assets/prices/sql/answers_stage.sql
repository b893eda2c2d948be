-- The channel's answers to one push, staged for record_answers.sql.
CREATE TEMP TABLE price_answers (sku text PRIMARY KEY, answer text, message text) ON COMMIT DROP
