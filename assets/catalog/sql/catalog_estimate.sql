-- How many products the planner believes the store has (see refresh_catalog_statistics).
EXPLAIN (FORMAT JSON) SELECT 1 FROM core.products WHERE store_id = :store_id
