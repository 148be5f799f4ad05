-- 0004 monitoring: request log, telemetry rollups, notifications and
-- notification webhooks; per-proxy body capture.

ALTER TABLE proxies ADD COLUMN log_bodies INTEGER NOT NULL DEFAULT 0 CHECK (log_bodies IN (0, 1));

-- One row per proxied request. No foreign key to proxies: a deleted
-- proxy's log stays until retention removes it, and inserts stay cheap.
-- seq orders rows by insertion; id is the public request id. Only what is
-- filtered or sorted on has a column; the rest of the entry (method, path,
-- redacted headers and parameters, times, code, message, durations, rule,
-- trace, async attempts and detail) is one JSON object in entry, which
-- keeps the per-row cost of the write-heavy log low (see docs/monitoring.md).
CREATE TABLE request_log (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    proxy_id      TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    kind          TEXT NOT NULL DEFAULT 'sync',
    processed     INTEGER NOT NULL CHECK (processed IN (0, 1)),
    processed_at  INTEGER NOT NULL,
    status        INTEGER NOT NULL,
    state         TEXT NOT NULL DEFAULT '',
    entry         TEXT NOT NULL,
    request_body  BLOB,
    response_body BLOB
) STRICT;

CREATE INDEX request_log_proxy_processed_idx ON request_log (proxy_id, processed_at, id);
CREATE INDEX request_log_processed_idx ON request_log (processed_at);

-- Aggregates per scope (proxy or client) and time bucket, kept as requests
-- arrive. Histograms are varint-packed sparse bucket counts.
CREATE TABLE rollups (
    scope         TEXT NOT NULL CHECK (scope IN ('proxy', 'client')),
    scope_id      TEXT NOT NULL,
    bucket        TEXT NOT NULL CHECK (bucket IN ('minute', 'hour', 'day')),
    start_at      INTEGER NOT NULL,
    requests      INTEGER NOT NULL DEFAULT 0,
    status_2xx    INTEGER NOT NULL DEFAULT 0,
    status_4xx    INTEGER NOT NULL DEFAULT 0,
    status_5xx    INTEGER NOT NULL DEFAULT 0,
    denied        INTEGER NOT NULL DEFAULT 0,
    limited       INTEGER NOT NULL DEFAULT 0,
    total_hist    BLOB NOT NULL DEFAULT x'',
    overhead_hist BLOB NOT NULL DEFAULT x'',
    upstream_hist BLOB NOT NULL DEFAULT x'',
    PRIMARY KEY (scope, scope_id, bucket, start_at)
) STRICT, WITHOUT ROWID;

CREATE INDEX rollups_bucket_start_idx ON rollups (bucket, start_at);

CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    scope      TEXT NOT NULL CHECK (scope IN ('system', 'client', 'user')),
    scope_id   TEXT NOT NULL,
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    message    TEXT NOT NULL,
    data       TEXT NOT NULL DEFAULT '{}',
    dedup_key  TEXT,
    created_at INTEGER NOT NULL,
    read_at    INTEGER
) STRICT;

CREATE UNIQUE INDEX notifications_dedup_idx ON notifications (scope, scope_id, dedup_key)
    WHERE dedup_key IS NOT NULL;
CREATE INDEX notifications_scope_idx ON notifications (scope, scope_id, created_at, id);
CREATE INDEX notifications_created_idx ON notifications (created_at);

CREATE TABLE notification_webhooks (
    client_id     TEXT PRIMARY KEY REFERENCES clients (id) ON DELETE CASCADE,
    url           TEXT NOT NULL,
    secret_sealed BLOB NOT NULL,
    active        INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE notification_deliveries (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL REFERENCES notification_webhooks (client_id) ON DELETE CASCADE,
    notification_id TEXT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    done            INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (done, next_attempt_at);
CREATE INDEX notification_deliveries_notification_idx ON notification_deliveries (notification_id);

CREATE INDEX credentials_expires_idx ON credentials (expires_at) WHERE expires_at IS NOT NULL;
