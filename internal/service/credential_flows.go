package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/store"
)

// OAuth2Flow runs the authorization_code steps outside the data plane
// (internal/inject.Flow implements it).
type OAuth2Flow interface {
	// AuthorizationURL is the provider's consent URL for the credential.
	AuthorizationURL(cfg credential.Config, redirectURI, state, verifier string) string
	// Exchange trades a code (and PKCE verifier) for a refresh token.
	Exchange(ctx context.Context, cfg credential.Config, sec credential.Secret, redirectURI, code, verifier string) (string, error)
}

// AuthorizationTTL is how long a user has to consent at the provider.
const AuthorizationTTL = 15 * time.Minute

// CallbackPath is where providers send the browser back (on the admin
// listener, under adminPublicURL).
const CallbackPath = "/oauth2/callback"

// OAuth2Completion describes a completed authorization, for the callback page.
type OAuth2Completion struct {
	CredentialID   string
	CredentialName string
	ClientID       string
}

// needsAuthorization reports whether a new or rotated oauth2 credential
// must go through the provider's consent: authorization_code without a
// refresh token given.
func needsAuthorization(c store.Credential, parsed credential.Parsed) bool {
	return c.AuthType == credential.OAuth2 && parsed.Config.IsAuthorizationCode() && parsed.Secret.RefreshToken == ""
}

// startAuthorization records a pending authorization (state hashed, PKCE
// verifier sealed) and returns the provider's consent URL.
func (s *Service) startAuthorization(ctx context.Context, c store.Credential, cfg credential.Config) (string, error) {
	if s.flow == nil || s.adminURL == "" {
		return "", Unavailable("OAuth2 authorization is not available on this server (adminPublicURL is not set)")
	}
	now := s.stamp()
	if _, err := s.store.OAuth2AuthorizationDeleteExpired(ctx, now); err != nil {
		s.log.WarnContext(ctx, "deleting expired oauth2 authorizations", "error", err.Error())
	}
	state := seal.RandomString(32)
	verifier := ""
	a := store.OAuth2Authorization{StateHash: s.stateHash(state), CredentialID: c.ID, ClientID: c.ClientID,
		RedirectURI: strings.TrimRight(s.adminURL, "/") + CallbackPath, CreatedAt: now, ExpiresAt: now.Add(AuthorizationTTL)}
	if cfg.UsePKCE {
		verifier = seal.RandomString(48) // 64 characters, within RFC 7636's 43–128
		a.VerifierSealed = s.keys.Seal([]byte(verifier), verifierAAD(c.ID))
	}
	if err := s.store.OAuth2AuthorizationCreate(ctx, a); err != nil {
		return "", fmt.Errorf("storing oauth2 authorization: %w", err)
	}
	return s.flow.AuthorizationURL(cfg, a.RedirectURI, state, verifier), nil
}

func (s *Service) stateHash(state string) []byte { return s.keys.Hash("oauth2-state:" + state) }

func verifierAAD(credentialID string) string { return "oauth2-verifier:" + credentialID }

// OAuth2Complete finishes an authorization at the callback: the state is
// taken (single use, expiring), the code exchanged with the kept PKCE
// verifier, the refresh token sealed into the credential, which becomes
// permanent. providerError is the provider's error parameter, if any.
func (s *Service) OAuth2Complete(ctx context.Context, state, code, providerError string) (OAuth2Completion, error) {
	if state == "" {
		return OAuth2Completion{}, BadRequest("The callback has no state parameter: open the authorization URL keyway gave you")
	}
	a, err := s.store.OAuth2AuthorizationTake(ctx, s.stateHash(state), s.now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return OAuth2Completion{}, BadRequest("This authorization is unknown, already used or expired: start it again by rotating the credential")
	case err != nil:
		return OAuth2Completion{}, fmt.Errorf("taking oauth2 authorization: %w", err)
	case providerError != "":
		return OAuth2Completion{}, BadRequest("The provider did not authorize keyway (" + printable(providerError, 64) + "); start again by rotating the credential")
	case code == "":
		return OAuth2Completion{}, BadRequest("The callback has no code parameter")
	}
	c, err := s.store.CredentialGet(ctx, a.ClientID, a.CredentialID)
	if err != nil {
		return OAuth2Completion{}, storeErr(err, "credential", "loading")
	}
	in, err := s.currentInput(c)
	if err != nil {
		return OAuth2Completion{}, err
	}
	parsed, perrs := credential.Parse(c.Type, c.AuthType, in, generateKey)
	if len(perrs) > 0 {
		return OAuth2Completion{}, fmt.Errorf("stored oauth2 credential does not parse: %v", perrs)
	}
	verifier := ""
	if len(a.VerifierSealed) > 0 {
		v, err := s.keys.Open(a.VerifierSealed, verifierAAD(c.ID))
		if err != nil {
			return OAuth2Completion{}, fmt.Errorf("opening PKCE verifier: %w", err)
		}
		verifier = string(v)
	}
	refresh, err := s.flow.Exchange(ctx, parsed.Config, parsed.Secret, a.RedirectURI, code, verifier)
	if err != nil {
		return OAuth2Completion{}, BadRequest("The provider refused the authorization code: " + err.Error())
	}
	parsed.Secret.RefreshToken = refresh
	if err := s.applySecret(&c, parsed); err != nil {
		return OAuth2Completion{}, err
	}
	before := c
	c.Temporary, c.UpdatedAt = false, s.stamp()
	callback := Actor{User: store.User{Name: "oauth2 callback"}, Via: "system"}
	if err := s.recordChange(ctx, callback, s.credentialChange(ActionUpdated, &before, &c), func(ctx context.Context) error {
		return s.store.CredentialUpdate(ctx, c)
	}); err != nil {
		return OAuth2Completion{}, storeErr(err, "credential", "updating")
	}
	s.notify(ctx, "oauth2 authorization completed")
	return OAuth2Completion{CredentialID: c.ID, CredentialName: c.Name, ClientID: c.ClientID}, nil
}

// printable keeps a provider-supplied word short and printable.
func printable(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= n {
			break
		}
		if r >= 0x20 && r < 0x7f {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// checkURLs runs the save-time egress check on a configuration's
// outbound URLs (token, authorization, JWKS, custom token request).
func (s *Service) checkURLs(cfg credential.Config) error {
	var fe FieldErrors
	for field, u := range cfg.URLs() {
		if err := s.checkURL(u); err != nil {
			fe.Add("credentialSecret."+field, "is refused by the egress policy: "+err.Error())
		}
	}
	return fe.Err()
}

// rotateJWTVerify replaces a jwtVerify shared secret (generating one when
// none is given) and keeps the previous one verifying for the grace period.
func (s *Service) rotateJWTVerify(c *store.Credential, base, in credential.Input, grace int64) (credential.Parsed, error) {
	old := base["sharedSecret"]
	if len(old) == 0 {
		return credential.Parsed{}, BadRequest("This credential verifies with a JWKS: its keys rotate at the issuer, there is no secret to rotate here")
	}
	generated := ""
	next := overlay(base, in)
	if _, given := in["sharedSecret"]; !given {
		generated = seal.RandomString(48)
		next["sharedSecret"] = json.RawMessage(fmt.Sprintf("%q", generated))
	}
	parsed, perrs := credential.Parse(c.Type, c.AuthType, next, generateKey)
	if len(perrs) > 0 {
		return credential.Parsed{}, Invalid(perrs...)
	}
	parsed.Generated = generated
	c.PrevSecretHash, c.PrevSecretUntil = nil, nil
	if grace > 0 {
		var prev string
		_ = json.Unmarshal(old, &prev)
		until := s.stamp().Add(time.Duration(grace) * time.Second)
		parsed.Secret.PreviousSharedSecret, c.PrevSecretUntil = prev, &until
	}
	return parsed, nil
}
