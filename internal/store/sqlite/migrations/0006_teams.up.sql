-- 0006 teams: invites and the audit log.

-- An invite into a client: one-time (accepted_at), expiring, found by the
-- keyed hash of its token. The inviter is kept as an id without a foreign
-- key, so deleting the inviting user leaves pending invites valid.
CREATE TABLE invites (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    token_hash  BLOB NOT NULL UNIQUE,
    email       TEXT NOT NULL DEFAULT '',
    name        TEXT NOT NULL DEFAULT '',
    roles       TEXT NOT NULL DEFAULT '[]',
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    accepted_at INTEGER,
    accepted_by TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX invites_client_created_idx ON invites (client_id, created_at, id);

-- The audit log. client_id '' is the instance log. No foreign keys: an
-- entry outlives the client, user and resource it names.
CREATE TABLE audit_log (
    id            TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL,
    at            INTEGER NOT NULL,
    actor_id      TEXT NOT NULL,
    actor_name    TEXT NOT NULL,
    token_id      TEXT NOT NULL DEFAULT '',
    via           TEXT NOT NULL,
    remote_addr   TEXT NOT NULL DEFAULT '',
    request_id    TEXT NOT NULL DEFAULT '',
    action        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    resource_name TEXT NOT NULL DEFAULT '',
    changes       TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(changes))
) STRICT;

CREATE INDEX audit_log_client_at_idx ON audit_log (client_id, at, id);
CREATE INDEX audit_log_client_resource_idx ON audit_log (client_id, resource_type, resource_id, at, id);
CREATE INDEX audit_log_client_actor_idx ON audit_log (client_id, actor_id, at, id);
