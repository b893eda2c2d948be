-- One listing's terms, pushed number and acknowledged number now, as a push would compute them.
SELECT * FROM core.stock_availability(:s, :a) WHERE sku = :sku
