-- Per store, digital units attempted in the last day and the share delivered (analytics view's terms).
SELECT store, sum(attempted) AS attempted, sum(delivered) AS delivered,
       round(100.0 * sum(delivered) / nullif(sum(attempted), 0), 1) AS success_rate_percent
FROM analytics.digital_fulfilment_daily
WHERE day >= (now() AT TIME ZONE 'UTC')::date - 1
GROUP BY store
ORDER BY store
