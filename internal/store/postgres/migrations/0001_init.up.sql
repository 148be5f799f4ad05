-- 0001 init: the configuration schema, matching SQLite's 0001.
--
-- Times are timestamptz, written by keyway truncated to the millisecond so
-- both adapters return the same values. Lists of strings are text[]; maps
-- and JSON documents are jsonb; secrets and hashes are bytea. Ids are
-- COLLATE "C" so that ordering by id is byte order, as on SQLite, whatever
-- the database's locale.

CREATE TABLE meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- One row; bumped in the same transaction as every configuration change
-- (which also sends NOTIFY keyway_changes) so nodes can tell cheaply
-- whether anything changed.
CREATE TABLE change_version (
    id      smallint PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
);

INSERT INTO change_version (id, version) VALUES (1, 0);

CREATE TABLE clients (
    id         text COLLATE "C" PRIMARY KEY,
    name       text NOT NULL,
    config     jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE INDEX clients_created_at_idx ON clients (created_at, id);

CREATE TABLE users (
    id                  text COLLATE "C" PRIMARY KEY,
    name                text NOT NULL UNIQUE,
    password_hash       text NOT NULL DEFAULT '',
    instance_admin      boolean NOT NULL DEFAULT false,
    password_changed_at timestamptz,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);

CREATE TABLE memberships (
    client_id  text COLLATE "C" NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id    text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    roles      text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    PRIMARY KEY (client_id, user_id)
);

CREATE INDEX memberships_user_id_idx ON memberships (user_id);

CREATE TABLE tokens (
    id           text COLLATE "C" PRIMARY KEY,
    user_id      text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL,
    hash         bytea NOT NULL UNIQUE,
    hint         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    expires_at   timestamptz
);

CREATE INDEX tokens_user_id_idx ON tokens (user_id, created_at);

-- UNIQUE (client_id, id) is redundant as a key but lets proxies reference
-- (client_id, id), so a proxy can never point at another client's rows.
CREATE TABLE credentials (
    id                  text COLLATE "C" PRIMARY KEY,
    client_id           text COLLATE "C" NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    name                text NOT NULL,
    type                text NOT NULL CHECK (type IN ('proxy', 'target')),
    auth_type           text NOT NULL,
    region              text NOT NULL,
    config              jsonb,
    secret_sealed       bytea,
    secret_hash         bytea,
    prev_secret_hash    bytea,
    prev_secret_until   timestamptz,
    default_rule_effect text NOT NULL,
    expires_at          timestamptz,
    temporary           boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    UNIQUE (client_id, id)
);

CREATE INDEX credentials_client_created_idx ON credentials (client_id, created_at, id);

CREATE TABLE targets (
    id                   text COLLATE "C" PRIMARY KEY,
    client_id            text COLLATE "C" NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    name                 text NOT NULL,
    base_url             text NOT NULL,
    test_path            text NOT NULL,
    region               text NOT NULL,
    default_rule_effect  text NOT NULL,
    timeout_seconds      integer NOT NULL,
    idle_timeout_seconds integer NOT NULL,
    headers              jsonb NOT NULL DEFAULT '{}',
    max_response_bytes   bigint NOT NULL,
    tls                  jsonb NOT NULL DEFAULT '{}',
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    UNIQUE (client_id, id)
);

CREATE INDEX targets_client_created_idx ON targets (client_id, created_at, id);

-- ON DELETE RESTRICT backs up the in-use check in CredentialDelete and
-- TargetDelete: a concurrent delete can never leave a proxy dangling.
CREATE TABLE proxies (
    id                            text COLLATE "C" PRIMARY KEY,
    client_id                     text COLLATE "C" NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    name                          text NOT NULL,
    active                        boolean NOT NULL,
    region                        text NOT NULL,
    proxy_credential_id           text COLLATE "C" NOT NULL,
    target_id                     text COLLATE "C" NOT NULL,
    target_credential_id          text COLLATE "C" NOT NULL,
    default_rule_effect           text NOT NULL,
    max_requests_per_minute       bigint NOT NULL DEFAULT 0,
    max_requests_per_day          bigint NOT NULL DEFAULT 0,
    async_max_retries             integer,
    async_retry_window_seconds    integer,
    async_attempt_timeout_seconds integer,
    async_callback_origins        text[] NOT NULL DEFAULT '{}',
    cors_origins                  text[] NOT NULL DEFAULT '{}',
    webhook_secret_sealed         bytea,
    created_at                    timestamptz NOT NULL,
    updated_at                    timestamptz NOT NULL,
    FOREIGN KEY (client_id, proxy_credential_id)
        REFERENCES credentials (client_id, id) ON DELETE RESTRICT,
    FOREIGN KEY (client_id, target_credential_id)
        REFERENCES credentials (client_id, id) ON DELETE RESTRICT,
    FOREIGN KEY (client_id, target_id)
        REFERENCES targets (client_id, id) ON DELETE RESTRICT
);

CREATE INDEX proxies_client_created_idx ON proxies (client_id, created_at, id);
CREATE INDEX proxies_proxy_credential_idx ON proxies (client_id, proxy_credential_id);
CREATE INDEX proxies_target_credential_idx ON proxies (client_id, target_credential_id);
CREATE INDEX proxies_target_idx ON proxies (client_id, target_id);
