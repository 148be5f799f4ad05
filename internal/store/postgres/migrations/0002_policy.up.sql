-- 0002 policy: authorization rules, response filters, meters and usage
-- counters, matching SQLite's 0002.
--
-- Rules and filters belong to exactly one owner: a credential, a proxy or
-- a target of the same client. Each owner kind has its own nullable column
-- with a foreign key that cascades, so deleting an owner deletes its rules
-- and filters (and a proxy its meters). Lists of strings are text[]; checks,
-- predicates, limits and the extraction are jsonb.

-- Lets rules, filters and meters reference (client_id, id) of a proxy, as
-- proxies do for credentials and targets.
CREATE UNIQUE INDEX proxies_client_id_key ON proxies (client_id, id);

CREATE TABLE rules (
    id            text COLLATE "C" PRIMARY KEY,
    client_id     text COLLATE "C" NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    owner_kind    text NOT NULL CHECK (owner_kind IN ('credential', 'proxy', 'target')),
    credential_id text COLLATE "C",
    proxy_id      text COLLATE "C",
    target_id     text COLLATE "C",
    effect        text NOT NULL CHECK (effect IN ('allow', 'deny')),
    priority      integer NOT NULL CHECK (priority BETWEEN 0 AND 1000),
    methods       text[] NOT NULL DEFAULT '{}',
    path_pattern  text NOT NULL DEFAULT '',
    path_presence text NOT NULL DEFAULT '',
    header_checks jsonb NOT NULL DEFAULT '[]',
    query_checks  jsonb NOT NULL DEFAULT '[]',
    body_checks   jsonb NOT NULL DEFAULT '[]',
    regex_flags   text NOT NULL DEFAULT '',
    notes         text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    CHECK ((owner_kind = 'credential' AND credential_id IS NOT NULL AND proxy_id IS NULL AND target_id IS NULL)
        OR (owner_kind = 'proxy' AND proxy_id IS NOT NULL AND credential_id IS NULL AND target_id IS NULL)
        OR (owner_kind = 'target' AND target_id IS NOT NULL AND credential_id IS NULL AND proxy_id IS NULL)),
    FOREIGN KEY (client_id, credential_id) REFERENCES credentials (client_id, id) ON DELETE CASCADE,
    FOREIGN KEY (client_id, proxy_id) REFERENCES proxies (client_id, id) ON DELETE CASCADE,
    FOREIGN KEY (client_id, target_id) REFERENCES targets (client_id, id) ON DELETE CASCADE
);

CREATE INDEX rules_credential_idx ON rules (client_id, credential_id);
CREATE INDEX rules_proxy_idx ON rules (client_id, proxy_id);
CREATE INDEX rules_target_idx ON rules (client_id, target_id);

CREATE TABLE filters (
    id            text COLLATE "C" PRIMARY KEY,
    client_id     text COLLATE "C" NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    owner_kind    text NOT NULL CHECK (owner_kind IN ('credential', 'proxy', 'target')),
    credential_id text COLLATE "C",
    proxy_id      text COLLATE "C",
    target_id     text COLLATE "C",
    action        text NOT NULL CHECK (action IN ('retain', 'destroy')),
    paths         text[] NOT NULL DEFAULT '{}',
    notes         text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    CHECK ((owner_kind = 'credential' AND credential_id IS NOT NULL AND proxy_id IS NULL AND target_id IS NULL)
        OR (owner_kind = 'proxy' AND proxy_id IS NOT NULL AND credential_id IS NULL AND target_id IS NULL)
        OR (owner_kind = 'target' AND target_id IS NOT NULL AND credential_id IS NULL AND proxy_id IS NULL)),
    FOREIGN KEY (client_id, credential_id) REFERENCES credentials (client_id, id) ON DELETE CASCADE,
    FOREIGN KEY (client_id, proxy_id) REFERENCES proxies (client_id, id) ON DELETE CASCADE,
    FOREIGN KEY (client_id, target_id) REFERENCES targets (client_id, id) ON DELETE CASCADE
);

CREATE INDEX filters_credential_idx ON filters (client_id, credential_id);
CREATE INDEX filters_proxy_idx ON filters (client_id, proxy_id);
CREATE INDEX filters_target_idx ON filters (client_id, target_id);

CREATE TABLE meters (
    id         text COLLATE "C" PRIMARY KEY,
    client_id  text COLLATE "C" NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    proxy_id   text COLLATE "C" NOT NULL,
    name       text NOT NULL,
    type       text NOT NULL CHECK (type IN ('request_count', 'response_value')),
    active     boolean NOT NULL,
    mode       text NOT NULL CHECK (mode IN ('all', 'conditional')),
    predicates jsonb NOT NULL DEFAULT '[]',
    limits     jsonb NOT NULL DEFAULT '[]',
    extraction jsonb,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    FOREIGN KEY (client_id, proxy_id) REFERENCES proxies (client_id, id) ON DELETE CASCADE
);

CREATE INDEX meters_proxy_idx ON meters (client_id, proxy_id, created_at, id);

-- Usage per subject ("proxy:prx_…", "meter:mtr_…") and UTC window, shared
-- by every node: adds are additive and leases are granted under a row
-- lock, so what all nodes hold never passes a limit. Not configuration:
-- never part of the change version (no NOTIFY).
CREATE TABLE counters (
    subject      text COLLATE "C" NOT NULL,
    window_kind  text NOT NULL CHECK (window_kind IN ('minute', 'hour', 'day', 'month')),
    window_start timestamptz NOT NULL,
    window_end   timestamptz NOT NULL,
    value        double precision NOT NULL,
    PRIMARY KEY (subject, window_kind, window_start)
);

CREATE INDEX counters_window_end_idx ON counters (window_end);
