-- 0004 monitoring: request log, telemetry rollups, notifications and
-- notification webhooks; per-proxy body capture. Matches SQLite's 0004.

ALTER TABLE proxies ADD COLUMN log_bodies boolean NOT NULL DEFAULT false;

-- One row per proxied request; only what is filtered or sorted on has a
-- column, the rest of the entry is one JSON object (text, not jsonb: a
-- logged header may hold a NUL, which jsonb refuses).
CREATE TABLE request_log (
    seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            text COLLATE "C" NOT NULL UNIQUE,
    proxy_id      text COLLATE "C" NOT NULL,
    client_id     text COLLATE "C" NOT NULL,
    kind          text NOT NULL DEFAULT 'sync',
    processed     boolean NOT NULL,
    processed_at  timestamptz NOT NULL,
    status        integer NOT NULL,
    state         text NOT NULL DEFAULT '',
    entry         text NOT NULL,
    request_body  bytea,
    response_body bytea
);

CREATE INDEX request_log_proxy_processed_idx ON request_log (proxy_id, processed_at, id);
CREATE INDEX request_log_processed_idx ON request_log (processed_at);

CREATE TABLE rollups (
    scope         text NOT NULL CHECK (scope IN ('proxy', 'client')),
    scope_id      text COLLATE "C" NOT NULL,
    bucket        text NOT NULL CHECK (bucket IN ('minute', 'hour', 'day')),
    start_at      timestamptz NOT NULL,
    requests      bigint NOT NULL DEFAULT 0,
    status_2xx    bigint NOT NULL DEFAULT 0,
    status_4xx    bigint NOT NULL DEFAULT 0,
    status_5xx    bigint NOT NULL DEFAULT 0,
    denied        bigint NOT NULL DEFAULT 0,
    limited       bigint NOT NULL DEFAULT 0,
    total_hist    bytea NOT NULL DEFAULT '',
    overhead_hist bytea NOT NULL DEFAULT '',
    upstream_hist bytea NOT NULL DEFAULT '',
    PRIMARY KEY (scope, scope_id, bucket, start_at)
);

CREATE INDEX rollups_bucket_start_idx ON rollups (bucket, start_at);

CREATE TABLE notifications (
    id         text COLLATE "C" PRIMARY KEY,
    scope      text NOT NULL CHECK (scope IN ('system', 'client', 'user')),
    scope_id   text COLLATE "C" NOT NULL,
    kind       text NOT NULL,
    title      text NOT NULL,
    message    text NOT NULL,
    data       jsonb NOT NULL DEFAULT '{}',
    dedup_key  text,
    created_at timestamptz NOT NULL,
    read_at    timestamptz
);

CREATE UNIQUE INDEX notifications_dedup_idx ON notifications (scope, scope_id, dedup_key)
    WHERE dedup_key IS NOT NULL;
CREATE INDEX notifications_scope_idx ON notifications (scope, scope_id, created_at, id);
CREATE INDEX notifications_created_idx ON notifications (created_at);

CREATE TABLE notification_webhooks (
    client_id     text COLLATE "C" PRIMARY KEY REFERENCES clients (id) ON DELETE CASCADE,
    url           text NOT NULL,
    secret_sealed bytea NOT NULL,
    active        boolean NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE TABLE notification_deliveries (
    id              text COLLATE "C" PRIMARY KEY,
    client_id       text COLLATE "C" NOT NULL REFERENCES notification_webhooks (client_id) ON DELETE CASCADE,
    notification_id text COLLATE "C" NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    done            boolean NOT NULL DEFAULT false,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL
);

CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (done, next_attempt_at);
CREATE INDEX notification_deliveries_notification_idx ON notification_deliveries (notification_id);

CREATE INDEX credentials_expires_idx ON credentials (expires_at) WHERE expires_at IS NOT NULL;
