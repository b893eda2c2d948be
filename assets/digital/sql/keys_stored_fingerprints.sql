-- Which of these fingerprints (a file's keys under every vault key) the store already holds.
SELECT fingerprint FROM ops.digital_keys WHERE store_id = :s AND fingerprint = ANY(:f)
