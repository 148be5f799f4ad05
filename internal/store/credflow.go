package store

import (
	"context"
	"time"
)

// OAuth2Authorization is a pending authorization_code consent: created with
// a temporary credential (or a re-authorization), taken once by the
// provider's redirect to keyway's callback.
type OAuth2Authorization struct {
	// StateHash is the keyed hash of the state parameter (the lookup key);
	// the state itself is never stored.
	StateHash    []byte
	CredentialID string
	ClientID     string
	// VerifierSealed is the sealed PKCE code verifier (empty without PKCE).
	VerifierSealed []byte
	// RedirectURI is the redirect_uri sent to the provider; the code
	// exchange must repeat it.
	RedirectURI string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// CredentialToken is the token state shared by every node for one token
// credential (oauth2, customToken): the cached access token and the latest
// refresh token, plus a lease that makes one node at a time fetch.
type CredentialToken struct {
	CredentialID string
	// Version identifies the credential settings the token was obtained
	// with; a token of another version is not used.
	Version string
	// TokenSealed is the sealed access token (empty while none is cached).
	TokenSealed    []byte
	TokenExpiresAt *time.Time
	// RefreshSealed is the sealed latest refresh token, when the provider
	// rotated it after the credential was saved.
	RefreshSealed []byte
	// RefreshBase identifies the stored refresh token RefreshSealed
	// descends from, so a rotated token survives unrelated setting changes.
	RefreshBase string
	UpdatedAt   time.Time
}

// CredentialTokenLeaseParams asks for the right to fetch a token.
type CredentialTokenLeaseParams struct {
	CredentialID string
	// Owner names the node asking; the owner may renew its own lease.
	Owner string
	Now   time.Time
	Until time.Time
}

// CredentialFlowStore keeps OAuth2 authorizations in progress and the token
// cache shared across nodes. None of its methods bumps the change version:
// tokens are not configuration.
type CredentialFlowStore interface {
	// OAuth2AuthorizationCreate stores a pending authorization; a missing
	// credential is ErrConflict.
	OAuth2AuthorizationCreate(ctx context.Context, a OAuth2Authorization) error
	// OAuth2AuthorizationTake deletes and returns the authorization with
	// the state hash. It is single use: a second take, or a take after
	// ExpiresAt (now or later), answers ErrNotFound.
	OAuth2AuthorizationTake(ctx context.Context, stateHash []byte, now time.Time) (OAuth2Authorization, error)
	// OAuth2AuthorizationDeleteExpired deletes authorizations that expired
	// at or before now and returns how many.
	OAuth2AuthorizationDeleteExpired(ctx context.Context, now time.Time) (int64, error)
	// CredentialTokenGet reads a credential's token state; ErrNotFound when
	// there is none.
	CredentialTokenGet(ctx context.Context, credentialID string) (CredentialToken, error)
	// CredentialTokenPut writes the token state and releases any lease; a
	// missing credential is ErrConflict.
	CredentialTokenPut(ctx context.Context, t CredentialToken) error
	// CredentialTokenLease takes the fetch lease unless another owner holds
	// one that lasts beyond p.Now, and reports whether it was taken.
	CredentialTokenLease(ctx context.Context, p CredentialTokenLeaseParams) (bool, error)
}
