-- One load of a source at a time (until the loading transaction ends): two concurrent loads of the
-- same feed would otherwise both insert its new products.
SELECT pg_advisory_xact_lock(CAST(:namespace AS integer), CAST(:source_id AS integer))
