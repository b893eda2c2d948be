-- Payloads as received: a version already landed (same content hash) adds nothing.
INSERT INTO raw.jtl_ffn_payloads (account_id, kind, external_id, payload, payload_sha)
SELECT :account_id, kind, external_id, CAST(payload AS jsonb), payload_sha FROM ffn_payloads
ON CONFLICT (account_id, kind, external_id, payload_sha) DO NOTHING
