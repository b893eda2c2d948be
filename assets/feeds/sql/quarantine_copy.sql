COPY ops.quarantine (source, line_number, raw_text, reason, run_id, import_run_id)
FROM STDIN
