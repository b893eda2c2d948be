-- Catalog matching: resolving an exception re-points its order line from a placeholder product and
-- deletes placeholders no line uses any more. Every product delete makes Postgres look for
-- exceptions resolved to that product, which without this index is a full scan of
-- ops.order_exceptions per deleted product (minutes for a first catalog load that settles 20,000).
CREATE INDEX IF NOT EXISTS order_exceptions_resolved_product ON ops.order_exceptions (resolved_product_id);
