-- Statements of the credential flows (credflow.go).

-- name: OAuth2AuthorizationInsert
INSERT INTO oauth2_authorizations (state_hash, credential_id, client_id, verifier_sealed, redirect_uri,
    created_at, expires_at)
VALUES (:state_hash, :credential_id, :client_id, :verifier_sealed, :redirect_uri, :created_at, :expires_at);

-- name: OAuth2AuthorizationTake
DELETE FROM oauth2_authorizations WHERE state_hash = :state_hash
RETURNING state_hash, credential_id, client_id, verifier_sealed, redirect_uri, created_at, expires_at;

-- name: OAuth2AuthorizationDeleteExpired
DELETE FROM oauth2_authorizations WHERE expires_at <= :now;

-- name: CredentialTokenGet
SELECT credential_id, version, token_sealed, token_expires_at, refresh_sealed, refresh_base, updated_at
FROM credential_tokens WHERE credential_id = :credential_id;

-- name: CredentialTokenPut
INSERT INTO credential_tokens (credential_id, version, token_sealed, token_expires_at, refresh_sealed,
    refresh_base, lease_owner, lease_until, updated_at)
VALUES (:credential_id, :version, :token_sealed, :token_expires_at, :refresh_sealed, :refresh_base,
    NULL, NULL, :updated_at)
ON CONFLICT (credential_id) DO UPDATE SET version = excluded.version,
    token_sealed = excluded.token_sealed, token_expires_at = excluded.token_expires_at,
    refresh_sealed = excluded.refresh_sealed, refresh_base = excluded.refresh_base,
    lease_owner = NULL, lease_until = NULL, updated_at = excluded.updated_at;

-- name: CredentialTokenLease
INSERT INTO credential_tokens (credential_id, lease_owner, lease_until, updated_at)
VALUES (:credential_id, :owner, :until, :now)
ON CONFLICT (credential_id) DO UPDATE SET lease_owner = excluded.lease_owner,
    lease_until = excluded.lease_until
WHERE credential_tokens.lease_until IS NULL OR credential_tokens.lease_until <= :now
    OR credential_tokens.lease_owner = excluded.lease_owner;
