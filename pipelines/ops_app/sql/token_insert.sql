INSERT INTO ops.api_tokens (token_id, name, token_sha256, store_id)
VALUES (:token_id, :name, :sha, :store_id)
RETURNING token_id, created_at
