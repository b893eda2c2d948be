-- A new import run of a catalog source, waiting to start.
INSERT INTO ops.import_runs (source_id, status, mapping_version, dagster_run_id)
VALUES (:source_id, 'pending', :mapping_version, :dagster_run_id)
RETURNING import_run_id
