-- 0006 teams: invites and the audit log, matching SQLite's 0006.

-- An invite into a client: one-time (accepted_at), expiring, found by the
-- keyed hash of its token. The inviter is kept as an id without a foreign
-- key, so deleting the inviting user leaves pending invites valid.
CREATE TABLE invites (
    id          text COLLATE "C" PRIMARY KEY,
    client_id   text COLLATE "C" NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE,
    email       text NOT NULL DEFAULT '',
    name        text NOT NULL DEFAULT '',
    roles       text[] NOT NULL DEFAULT '{}',
    created_by  text COLLATE "C" NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by text COLLATE "C" NOT NULL DEFAULT ''
);

CREATE INDEX invites_client_created_idx ON invites (client_id, created_at, id);

-- The audit log. client_id '' is the instance log. No foreign keys: an
-- entry outlives the client, user and resource it names.
CREATE TABLE audit_log (
    id            text COLLATE "C" PRIMARY KEY,
    client_id     text COLLATE "C" NOT NULL,
    at            timestamptz NOT NULL,
    actor_id      text COLLATE "C" NOT NULL,
    actor_name    text NOT NULL,
    token_id      text COLLATE "C" NOT NULL DEFAULT '',
    via           text NOT NULL,
    remote_addr   text NOT NULL DEFAULT '',
    request_id    text NOT NULL DEFAULT '',
    action        text NOT NULL,
    resource_type text NOT NULL,
    resource_id   text COLLATE "C" NOT NULL,
    resource_name text NOT NULL DEFAULT '',
    changes       jsonb NOT NULL DEFAULT '[]'
);

CREATE INDEX audit_log_client_at_idx ON audit_log (client_id, at, id);
CREATE INDEX audit_log_client_resource_idx ON audit_log (client_id, resource_type, resource_id, at, id);
CREATE INDEX audit_log_client_actor_idx ON audit_log (client_id, actor_id, at, id);
