DROP INDEX IF EXISTS ops.order_exceptions_resolved_product;
