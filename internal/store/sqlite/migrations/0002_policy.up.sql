-- 0002 policy: authorization rules, response filters, meters and usage
-- counters.
--
-- Rules and filters belong to exactly one owner: a credential, a proxy or
-- a target of the same client. Each owner kind has its own nullable column
-- with a foreign key that cascades, so deleting an owner deletes its rules
-- and filters (and a proxy its meters) without the owner's delete knowing.
-- Lists of checks, paths, predicates and limits are JSON text.

-- Lets rules, filters and meters reference (client_id, id) of a proxy, as
-- proxies do for credentials and targets.
CREATE UNIQUE INDEX proxies_client_id_key ON proxies (client_id, id);

CREATE TABLE rules (
    id            TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    owner_kind    TEXT NOT NULL CHECK (owner_kind IN ('credential', 'proxy', 'target')),
    credential_id TEXT,
    proxy_id      TEXT,
    target_id     TEXT,
    effect        TEXT NOT NULL CHECK (effect IN ('allow', 'deny')),
    priority      INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 1000),
    methods       TEXT NOT NULL DEFAULT '[]',
    path_pattern  TEXT NOT NULL DEFAULT '',
    path_presence TEXT NOT NULL DEFAULT '',
    header_checks TEXT NOT NULL DEFAULT '[]',
    query_checks  TEXT NOT NULL DEFAULT '[]',
    body_checks   TEXT NOT NULL DEFAULT '[]',
    regex_flags   TEXT NOT NULL DEFAULT '',
    notes         TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    CHECK ((owner_kind = 'credential' AND credential_id IS NOT NULL AND proxy_id IS NULL AND target_id IS NULL)
        OR (owner_kind = 'proxy' AND proxy_id IS NOT NULL AND credential_id IS NULL AND target_id IS NULL)
        OR (owner_kind = 'target' AND target_id IS NOT NULL AND credential_id IS NULL AND proxy_id IS NULL)),
    FOREIGN KEY (client_id, credential_id) REFERENCES credentials (client_id, id) ON DELETE CASCADE,
    FOREIGN KEY (client_id, proxy_id) REFERENCES proxies (client_id, id) ON DELETE CASCADE,
    FOREIGN KEY (client_id, target_id) REFERENCES targets (client_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX rules_credential_idx ON rules (client_id, credential_id);
CREATE INDEX rules_proxy_idx ON rules (client_id, proxy_id);
CREATE INDEX rules_target_idx ON rules (client_id, target_id);

CREATE TABLE filters (
    id            TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    owner_kind    TEXT NOT NULL CHECK (owner_kind IN ('credential', 'proxy', 'target')),
    credential_id TEXT,
    proxy_id      TEXT,
    target_id     TEXT,
    action        TEXT NOT NULL CHECK (action IN ('retain', 'destroy')),
    paths         TEXT NOT NULL DEFAULT '[]',
    notes         TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    CHECK ((owner_kind = 'credential' AND credential_id IS NOT NULL AND proxy_id IS NULL AND target_id IS NULL)
        OR (owner_kind = 'proxy' AND proxy_id IS NOT NULL AND credential_id IS NULL AND target_id IS NULL)
        OR (owner_kind = 'target' AND target_id IS NOT NULL AND credential_id IS NULL AND proxy_id IS NULL)),
    FOREIGN KEY (client_id, credential_id) REFERENCES credentials (client_id, id) ON DELETE CASCADE,
    FOREIGN KEY (client_id, proxy_id) REFERENCES proxies (client_id, id) ON DELETE CASCADE,
    FOREIGN KEY (client_id, target_id) REFERENCES targets (client_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX filters_credential_idx ON filters (client_id, credential_id);
CREATE INDEX filters_proxy_idx ON filters (client_id, proxy_id);
CREATE INDEX filters_target_idx ON filters (client_id, target_id);

CREATE TABLE meters (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    proxy_id   TEXT NOT NULL,
    name       TEXT NOT NULL,
    type       TEXT NOT NULL CHECK (type IN ('request_count', 'response_value')),
    active     INTEGER NOT NULL CHECK (active IN (0, 1)),
    mode       TEXT NOT NULL CHECK (mode IN ('all', 'conditional')),
    predicates TEXT NOT NULL DEFAULT '[]',
    limits     TEXT NOT NULL DEFAULT '[]',
    extraction TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    FOREIGN KEY (client_id, proxy_id) REFERENCES proxies (client_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX meters_proxy_idx ON meters (client_id, proxy_id, created_at, id);

-- Usage per subject ("proxy:prx_…", "meter:mtr_…") and UTC window. Not
-- configuration: never part of the change version. Rows of ended windows
-- are deleted after a retention period.
CREATE TABLE counters (
    subject      TEXT NOT NULL,
    window_kind  TEXT NOT NULL CHECK (window_kind IN ('minute', 'hour', 'day', 'month')),
    window_start INTEGER NOT NULL,
    window_end   INTEGER NOT NULL,
    value        REAL NOT NULL,
    PRIMARY KEY (subject, window_kind, window_start)
) STRICT;

CREATE INDEX counters_window_end_idx ON counters (window_end);
