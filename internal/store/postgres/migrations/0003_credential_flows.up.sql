-- 0003 credential flows, matching SQLite's 0003: OAuth2 authorizations in
-- progress and the token cache shared by every node (access token, rotated
-- refresh token, fetch lease). Deleting a credential deletes both.
--
-- Neither table is configuration: writes here never bump change_version.

CREATE TABLE oauth2_authorizations (
    state_hash      bytea PRIMARY KEY,
    credential_id   text COLLATE "C" NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    client_id       text COLLATE "C" NOT NULL,
    verifier_sealed bytea,
    redirect_uri    text NOT NULL,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL
);

CREATE INDEX oauth2_authorizations_expires_idx ON oauth2_authorizations (expires_at);
CREATE INDEX oauth2_authorizations_credential_idx ON oauth2_authorizations (credential_id);

-- One row per token credential. lease_owner/lease_until is the fetch
-- lease: CredentialTokenLease takes it with one INSERT … ON CONFLICT DO
-- UPDATE … WHERE, which locks the row and re-checks the lease on the
-- latest row version, so of two nodes racing exactly one wins.
CREATE TABLE credential_tokens (
    credential_id    text COLLATE "C" PRIMARY KEY REFERENCES credentials (id) ON DELETE CASCADE,
    version          text NOT NULL DEFAULT '',
    token_sealed     bytea,
    token_expires_at timestamptz,
    refresh_sealed   bytea,
    refresh_base     text NOT NULL DEFAULT '',
    lease_owner      text,
    lease_until      timestamptz,
    updated_at       timestamptz NOT NULL
);
