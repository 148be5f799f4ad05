-- 0001 init: the configuration schema.
--
-- Times are INTEGER unix milliseconds (UTC). Lists and maps are JSON text.
-- Tables are STRICT so a wrong Go type fails loudly instead of being stored
-- with SQLite's type affinity.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- One row; bumped in the same transaction as every configuration change so
-- the snapshot builder can tell cheaply whether anything changed.
CREATE TABLE change_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
) STRICT;

INSERT INTO change_version (id, version) VALUES (1, 0);

CREATE TABLE clients (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    config     TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX clients_created_at_idx ON clients (created_at, id);

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE,
    password_hash       TEXT NOT NULL DEFAULT '',
    instance_admin      INTEGER NOT NULL DEFAULT 0 CHECK (instance_admin IN (0, 1)),
    password_changed_at INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
) STRICT;

CREATE TABLE memberships (
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    roles      TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, user_id)
) STRICT;

CREATE INDEX memberships_user_id_idx ON memberships (user_id);

CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    hash         BLOB NOT NULL UNIQUE,
    hint         TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    expires_at   INTEGER
) STRICT;

CREATE INDEX tokens_user_id_idx ON tokens (user_id, created_at);

-- UNIQUE (client_id, id) is redundant as a key but lets proxies reference
-- (client_id, id), so a proxy can never point at another client's rows.
CREATE TABLE credentials (
    id                  TEXT PRIMARY KEY,
    client_id           TEXT NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    name                TEXT NOT NULL,
    type                TEXT NOT NULL CHECK (type IN ('proxy', 'target')),
    auth_type           TEXT NOT NULL,
    region              TEXT NOT NULL,
    config              TEXT CHECK (config IS NULL OR json_valid(config)),
    secret_sealed       BLOB,
    secret_hash         BLOB,
    prev_secret_hash    BLOB,
    prev_secret_until   INTEGER,
    default_rule_effect TEXT NOT NULL,
    expires_at          INTEGER,
    temporary           INTEGER NOT NULL DEFAULT 0 CHECK (temporary IN (0, 1)),
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    UNIQUE (client_id, id)
) STRICT;

CREATE INDEX credentials_client_created_idx ON credentials (client_id, created_at, id);

CREATE TABLE targets (
    id                   TEXT PRIMARY KEY,
    client_id            TEXT NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    name                 TEXT NOT NULL,
    base_url             TEXT NOT NULL,
    test_path            TEXT NOT NULL,
    region               TEXT NOT NULL,
    default_rule_effect  TEXT NOT NULL,
    timeout_seconds      INTEGER NOT NULL,
    idle_timeout_seconds INTEGER NOT NULL,
    headers              TEXT NOT NULL DEFAULT '{}',
    max_response_bytes   INTEGER NOT NULL,
    tls                  TEXT NOT NULL DEFAULT '{}',
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    UNIQUE (client_id, id)
) STRICT;

CREATE INDEX targets_client_created_idx ON targets (client_id, created_at, id);

-- ON DELETE RESTRICT backs up the in-use check in CredentialDelete and
-- TargetDelete: a concurrent delete can never leave a proxy dangling.
CREATE TABLE proxies (
    id                            TEXT PRIMARY KEY,
    client_id                     TEXT NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    name                          TEXT NOT NULL,
    active                        INTEGER NOT NULL CHECK (active IN (0, 1)),
    region                        TEXT NOT NULL,
    proxy_credential_id           TEXT NOT NULL,
    target_id                     TEXT NOT NULL,
    target_credential_id          TEXT NOT NULL,
    default_rule_effect           TEXT NOT NULL,
    max_requests_per_minute       INTEGER NOT NULL DEFAULT 0,
    max_requests_per_day          INTEGER NOT NULL DEFAULT 0,
    async_max_retries             INTEGER,
    async_retry_window_seconds    INTEGER,
    async_attempt_timeout_seconds INTEGER,
    async_callback_origins        TEXT NOT NULL DEFAULT '[]',
    cors_origins                  TEXT NOT NULL DEFAULT '[]',
    webhook_secret_sealed         BLOB,
    created_at                    INTEGER NOT NULL,
    updated_at                    INTEGER NOT NULL,
    FOREIGN KEY (client_id, proxy_credential_id)
        REFERENCES credentials (client_id, id) ON DELETE RESTRICT,
    FOREIGN KEY (client_id, target_credential_id)
        REFERENCES credentials (client_id, id) ON DELETE RESTRICT,
    FOREIGN KEY (client_id, target_id)
        REFERENCES targets (client_id, id) ON DELETE RESTRICT
) STRICT;

CREATE INDEX proxies_client_created_idx ON proxies (client_id, created_at, id);
CREATE INDEX proxies_proxy_credential_idx ON proxies (client_id, proxy_credential_id);
CREATE INDEX proxies_target_credential_idx ON proxies (client_id, target_credential_id);
CREATE INDEX proxies_target_idx ON proxies (client_id, target_id);
