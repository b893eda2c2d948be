-- The store's own web shop as a channel (assets/storefront): its order states, and the answers of its
-- order API kept per Idempotency-Key so that a retried request is answered, never applied, twice.

INSERT INTO core.order_status_map (channel, channel_state, status, meaning) VALUES
    ('storefront', 'pending', 'pending', 'placed in the shop, payment not received yet'),
    ('storefront', 'paid', 'confirmed', 'paid, ready to ship'),
    ('storefront', 'shipped', 'shipped', 'handed to the carrier by the shop'),
    ('storefront', 'cancelled', 'cancelled', 'cancelled before it shipped'),
    ('storefront', 'refunded', 'refunded', 'refunded in full');

-- One row per (account, Idempotency-Key): what the request was (a hash of its method, path and body)
-- and what it was answered. A retry with the same key and body gets the stored answer; the same key
-- with another body is refused. The row is written in the transaction that applies the request, so a
-- request that failed leaves no key behind and may be retried as new. Keys are kept 7 days
-- (STOREFRONT_KEY_DAYS in assets/storefront/idempotency.py), longer than any shop's retry schedule.
CREATE TABLE ops.api_idempotency_keys (
    account_id       bigint NOT NULL REFERENCES ops.accounts ON DELETE CASCADE,
    idempotency_key  text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    request_sha      text NOT NULL,
    status_code      smallint NOT NULL CHECK (status_code BETWEEN 200 AND 299),
    answer           json NOT NULL,  -- json, not jsonb: a replay answers the very text first sent
    order_id         bigint,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, idempotency_key)
);
CREATE INDEX api_idempotency_keys_created ON ops.api_idempotency_keys (created_at);
COMMENT ON TABLE ops.api_idempotency_keys IS
    'Answers of the storefront order API by Idempotency-Key: a retry gets the stored answer, a reused key with another body is refused (409).';
