-- How many products the store really has, counting no further than :cap.
SELECT count(*) FROM (SELECT 1 FROM core.products WHERE store_id = :store_id LIMIT :cap) AS capped
