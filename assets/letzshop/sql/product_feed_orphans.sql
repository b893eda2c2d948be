-- Translations from a Letzshop feed's other-language files whose id the primary file does not hold as a
-- loadable product are dropped before the merge: they describe nothing we load (and would otherwise
-- overwrite the translations of a product an earlier import loaded). Returns how many were dropped.
WITH dropped AS (
    DELETE FROM stage_catalog_translations t
    WHERE NOT EXISTS (SELECT 1 FROM stage_catalog s WHERE s.external_id = t.external_id)
    RETURNING 1
)
SELECT count(*) FROM dropped;
