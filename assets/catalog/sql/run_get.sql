SELECT * FROM ops.import_runs WHERE import_run_id = :import_run_id
