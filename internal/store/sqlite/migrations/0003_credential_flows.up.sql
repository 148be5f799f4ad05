-- 0003 credential flows: OAuth2 authorizations in progress and the token
-- cache shared by every node (access token, rotated refresh token, fetch
-- lease). Deleting a credential deletes both.

CREATE TABLE oauth2_authorizations (
    state_hash      BLOB PRIMARY KEY,
    credential_id   TEXT NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    client_id       TEXT NOT NULL,
    verifier_sealed BLOB,
    redirect_uri    TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX oauth2_authorizations_expires_idx ON oauth2_authorizations (expires_at);
CREATE INDEX oauth2_authorizations_credential_idx ON oauth2_authorizations (credential_id);

CREATE TABLE credential_tokens (
    credential_id    TEXT PRIMARY KEY REFERENCES credentials (id) ON DELETE CASCADE,
    version          TEXT NOT NULL DEFAULT '',
    token_sealed     BLOB,
    token_expires_at INTEGER,
    refresh_sealed   BLOB,
    refresh_base     TEXT NOT NULL DEFAULT '',
    lease_owner      TEXT,
    lease_until      INTEGER,
    updated_at       INTEGER NOT NULL
) STRICT;
