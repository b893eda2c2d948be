DROP TABLE ops.digital_keys;
DROP TABLE ops.digital_purchases;
DROP TABLE ops.digital_products;
