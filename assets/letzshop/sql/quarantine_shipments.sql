INSERT INTO ops.quarantine (source, account_id, record_ref, raw_text, reason, run_id)
VALUES ('letzshop.shipments', :a, :ref, :raw, :reason, :run)
