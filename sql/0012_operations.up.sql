-- Operations: metrics with thresholds per store, alerts that reach people (routes, notices, damping,
-- acknowledgement), and the tokens that open the operations endpoints of `marketsync serve`.

-- ---------------------------------------------------------------- sync operations that failed
-- A sync operation failed when it ended on an error (the import raised, the run was killed), as opposed
-- to one that completed with some failed records. The error rate counts these.
ALTER TABLE ops.sync_log ADD COLUMN failed boolean NOT NULL DEFAULT false;
UPDATE ops.sync_log SET failed = true
WHERE completed_at IS NOT NULL AND records_succeeded = 0 AND jsonb_array_length(errors) > 0;
CREATE INDEX sync_log_started ON ops.sync_log (started_at);

-- ---------------------------------------------------------------- metrics and their thresholds
-- What each metric measures and when it is crossed by default. `direction` above: the value crosses a
-- threshold when it is greater than it (a lag, a depth); below: when it is less (a success rate).
-- A NULL threshold never fires at that severity.
CREATE TABLE ops.metric_definitions (
    metric        text PRIMARY KEY CHECK (metric ~ '^[a-z][a-z0-9_]{0,62}$'),
    label         text NOT NULL,
    unit          text NOT NULL CHECK (unit IN ('seconds', 'percent', 'count')),
    direction     text NOT NULL CHECK (direction IN ('above', 'below')),
    warn_at       numeric,
    error_at      numeric,
    description   text NOT NULL,
    CHECK (warn_at IS NULL OR error_at IS NULL OR
           (direction = 'above' AND warn_at <= error_at) OR (direction = 'below' AND warn_at >= error_at))
);
INSERT INTO ops.metric_definitions (metric, label, unit, direction, warn_at, error_at, description) VALUES
    ('order_import_lag', 'order import lag', 'seconds', 'above', 900, 3600,
     'Seconds since the last successful order import of the account (since the account was added, when it never imported).'),
    ('inventory_sync_lag', 'inventory sync lag', 'seconds', 'above', 1800, 7200,
     'Seconds since the last successful stock push to the channel (since stock sync was set up, when it never pushed).'),
    ('outbound_queue_depth', 'fulfilment sync queue depth', 'count', 'above', 100, 1000,
     'Outbound writes (confirmations, tracking, stock, key e-mails, notices) of the account pending or in flight.'),
    ('sync_error_rate', 'sync error rate', 'percent', 'above', 5, 25,
     'Failed sync operations of the account over the last hour, in percent of all it started then.'),
    ('digital_fulfilment_success_rate', 'digital fulfilment success rate', 'percent', 'below', 95, 80,
     'Digital units delivered to the buyer, in percent of those attempted between 25 and 1 hours ago.'),
    ('dead_letters', 'dead-lettered writes', 'count', 'above', NULL, 0,
     'Outbound writes of the account that were refused or ran out of attempts and wait for a person.'),
    ('quarantined_rows', 'quarantined rows of the last import', 'count', 'above', 0, NULL,
     'Rows the latest finished import of the feed could not use (ops.quarantine holds each with its reason).'),
    ('pending_exceptions', 'pending order exceptions', 'count', 'above', 25, 250,
     'Order items of the store waiting for a person to match them to the catalog.'),
    ('pending_exception_age', 'age of the oldest pending order exception', 'seconds', 'above', 86400, 259200,
     'Seconds the oldest pending order exception of the store has waited.');

-- A store's own thresholds, replacing the defaults of a metric (a NULL: never at that severity).
CREATE TABLE ops.metric_thresholds (
    store_id    bigint NOT NULL REFERENCES ops.stores ON DELETE CASCADE,
    metric      text NOT NULL REFERENCES ops.metric_definitions,
    warn_at     numeric,
    error_at    numeric,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, metric)
);

-- ---------------------------------------------------------------- alerts as conditions
-- Every alert belongs to a condition (what it is about: a metric of one integration, an account's
-- failure streak, a low pool, ...) with a severity; at most one alert per condition is open. Notices
-- (ops.alert_notices) tell people when a condition opens and, once it has stayed clear, when it resolved.
ALTER TABLE ops.alerts
    ADD COLUMN store_id      bigint REFERENCES ops.stores ON DELETE CASCADE,
    ADD COLUMN severity      text NOT NULL DEFAULT 'error' CHECK (severity IN ('warn', 'error')),
    ADD COLUMN condition_key text,
    ADD COLUMN acked_at      timestamptz,
    ADD COLUMN acked_by      text;
UPDATE ops.alerts al SET store_id = a.store_id FROM ops.accounts a WHERE a.account_id = al.account_id;
UPDATE ops.alerts SET condition_key = source || coalesce(':' || account_id, '');
ALTER TABLE ops.alerts ALTER COLUMN condition_key SET NOT NULL;
-- Alerts opened before conditions existed: of several open ones about the same condition the newest stays
-- open, the others close when they were last seen.
UPDATE ops.alerts a SET closed_at = a.last_seen_at
WHERE a.closed_at IS NULL
  AND EXISTS (SELECT 1 FROM ops.alerts b
              WHERE b.condition_key = a.condition_key AND b.closed_at IS NULL AND b.alert_id > a.alert_id);
-- One rule for "one open alert per condition" (the account streak's own index is subsumed by it).
DROP INDEX ops.alerts_open_streak;
CREATE UNIQUE INDEX alerts_open_condition ON ops.alerts (condition_key) WHERE closed_at IS NULL;
CREATE INDEX alerts_condition_closed ON ops.alerts (condition_key, closed_at DESC);
CREATE INDEX alerts_store_open ON ops.alerts (store_id) WHERE closed_at IS NULL;

-- Whom a store's alerts and new-order notices reach: an e-mail address (sent through the store's e-mail
-- account) or the store's webhook (its webhook account: the URL, and the signing secret in the vault).
-- Alerts at or above `min_severity`; new orders one notice per order, or a digest every N minutes.
CREATE TABLE ops.notification_routes (
    route_id        bigserial PRIMARY KEY,
    store_id        bigint NOT NULL REFERENCES ops.stores ON DELETE CASCADE,
    topic           text NOT NULL CHECK (topic IN ('alerts', 'new_orders')),
    via             text NOT NULL CHECK (via IN ('email', 'webhook')),
    recipient       text NOT NULL DEFAULT '' CHECK ((via = 'email') = (recipient <> '')),
    min_severity    text NOT NULL DEFAULT 'warn' CHECK (min_severity IN ('warn', 'error')),
    digest_minutes  integer NOT NULL DEFAULT 0 CHECK (digest_minutes BETWEEN 0 AND 1440),
    enabled         boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (store_id, topic, via, recipient),
    CHECK (topic = 'new_orders' OR digest_minutes = 0)
);

-- The notices sent per condition: an `opened` notice starts an episode (`escalated` when it turns from warn
-- to error), a `resolved` one ends it. An alert that reopens before its condition was resolved continues
-- the episode (damping: no second notice).
CREATE TABLE ops.alert_notices (
    notice_id      bigserial PRIMARY KEY,
    condition_key  text NOT NULL,
    alert_id       bigint NOT NULL REFERENCES ops.alerts ON DELETE CASCADE,
    event          text NOT NULL CHECK (event IN ('opened', 'escalated', 'resolved')),
    severity       text NOT NULL CHECK (severity IN ('warn', 'error')),
    routes         integer NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_notices_condition ON ops.alert_notices (condition_key, notice_id DESC);

-- ---------------------------------------------------------------- the operations endpoints' tokens
-- Bearer tokens for /metrics, /status and /health/stores/... (never /healthz): only a SHA-256 of each is
-- kept; the token itself is shown once, when it is made. A token of one store sees only that store.
CREATE TABLE ops.api_tokens (
    token_id      bigserial PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    token_sha256  bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    store_id      bigint REFERENCES ops.stores ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);

-- Per account: the latest cheap live call of the health endpoint (at most one a minute per account).
CREATE TABLE ops.api_status (
    account_id  bigint PRIMARY KEY REFERENCES ops.accounts ON DELETE CASCADE,
    ok          boolean NOT NULL,
    detail      text NOT NULL,
    checked_at  timestamptz NOT NULL DEFAULT now()
);
