package service

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/id"
	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/store"
)

// CredentialParams are the inputs of a credential create or update.
type CredentialParams struct {
	Name Optional[string]
	// Type is "proxy" or "target"; immutable.
	Type Optional[string]
	// AuthType is the credentialAuthType; immutable.
	AuthType Optional[string]
	// Region is immutable; on create it defaults to the only region, if
	// the catalogue has one.
	Region            Optional[string]
	DefaultRuleEffect Optional[string]
	// ExpiresAt is informational (expiry notifications); null clears it.
	ExpiresAt Optional[time.Time]
	// Secret and Config are the credentialSecret and credentialConfig
	// objects (nil when not given). Their fields are merged; each is filed
	// where it belongs (readable config or write-only secret).
	Secret credential.Input
	Config credential.Input
}

// RotateParams are the inputs of a credential rotation.
type RotateParams struct {
	// Secret is the new credentialSecret; an apiKey proxy credential gets a
	// generated key when it is nil.
	Secret credential.Input
	// GracePeriodSeconds keeps the previous proxy secret valid this long
	// (0–30 days, default 0). Ignored for target credentials.
	GracePeriodSeconds Optional[int64]
}

// MaxGracePeriod is the longest a rotated proxy secret keeps working.
const MaxGracePeriod = 30 * 24 * time.Hour

// CredentialResult is a credential after create or rotate, with the key
// keyway generated (answered once; empty when none was generated).
type CredentialResult struct {
	Credential      store.Credential
	GeneratedSecret string
	// AuthorizationURL is where the user consents for an oauth2
	// authorization_code credential (answered on create and rotate).
	AuthorizationURL string
}

// CredentialList lists a client's credentials; temporary ones (an OAuth2
// authorization in progress) only when includeTemporary is set.
func (s *Service) CredentialList(ctx context.Context, actor Actor, clientID string, includeTemporary bool) ([]store.Credential, error) {
	if _, err := s.authorize(ctx, actor, clientID, actRead); err != nil {
		return nil, err
	}
	cs, err := s.store.CredentialList(ctx, store.CredentialListParams{ClientID: clientID, IncludeTemporary: includeTemporary})
	if err != nil {
		return nil, fmt.Errorf("listing credentials: %w", err)
	}
	return cs, nil
}

// CredentialGet reads one credential (never its secret).
func (s *Service) CredentialGet(ctx context.Context, actor Actor, clientID, credentialID string) (store.Credential, error) {
	if _, err := s.authorize(ctx, actor, clientID, actRead); err != nil {
		return store.Credential{}, err
	}
	c, err := s.store.CredentialGet(ctx, clientID, credentialID)
	return c, storeErr(err, "credential", "loading")
}

// CredentialCreate validates and stores a new credential. Proxy secrets
// are kept as keyed hashes, target secrets sealed.
func (s *Service) CredentialCreate(ctx context.Context, actor Actor, clientID string, p CredentialParams) (CredentialResult, error) {
	if _, err := s.authorize(ctx, actor, clientID, actWrite); err != nil {
		return CredentialResult{}, err
	}
	client, err := s.store.ClientGet(ctx, clientID)
	if err != nil {
		return CredentialResult{}, storeErr(err, "client", "loading")
	}
	now := s.stamp()
	c := store.Credential{ID: id.New(id.Credential), ClientID: clientID, CreatedAt: now, UpdatedAt: now}
	var fe FieldErrors
	checkName(&fe, "credentialName", p.Name, true)
	c.Name = p.Name.Value
	switch {
	case !p.Type.given():
		fe.Add("credentialType", `is required ("proxy" or "target")`)
	case p.Type.Value != store.CredentialProxy && p.Type.Value != store.CredentialTarget:
		fe.Add("credentialType", `must be "proxy" or "target"`)
	}
	c.Type = p.Type.Value
	if !p.AuthType.given() {
		fe.Add("credentialAuthType", "is required")
	}
	c.AuthType = credential.Canonical(p.AuthType.Value)
	c.Region = s.pickRegion(&fe, "credentialRegion", p.Region, client)
	c.DefaultRuleEffect = effectOr(&fe, "credentialDefaultRuleEffect", p.DefaultRuleEffect, "")
	c.ExpiresAt = optTime(p.ExpiresAt, nil)
	in := mergeInput(&fe, p.Secret, p.Config)
	if len(fe) > 0 {
		return CredentialResult{}, fe.Err()
	}
	parsed, perrs := credential.Parse(c.Type, c.AuthType, in, generateKey)
	if len(perrs) > 0 {
		return CredentialResult{}, Invalid(perrs...)
	}
	if err := s.applySecret(&c, parsed); err != nil {
		return CredentialResult{}, err
	}
	authorize := needsAuthorization(c, parsed)
	if authorize && (s.flow == nil || s.adminURL == "") {
		return CredentialResult{}, Unavailable("OAuth2 authorization_code credentials need the server's adminPublicURL")
	}
	c.Temporary = authorize
	if err := s.recordChange(ctx, actor, s.credentialChange(ActionCreated, nil, &c), func(ctx context.Context) error {
		return s.store.CredentialCreate(ctx, c)
	}); err != nil {
		return CredentialResult{}, storeErr(err, "credential", "creating")
	}
	res := CredentialResult{Credential: c, GeneratedSecret: parsed.Generated}
	if authorize {
		if res.AuthorizationURL, err = s.startAuthorization(ctx, c, parsed.Config); err != nil {
			return CredentialResult{}, err
		}
	}
	s.notify(ctx, "credential created")
	return res, nil
}

// CredentialUpdate changes the given fields. credentialSecret and
// credentialConfig are merged over the stored settings and parsed again;
// for proxy credentials a new secret replaces the stored hash.
func (s *Service) CredentialUpdate(ctx context.Context, actor Actor, clientID, credentialID string, p CredentialParams) (store.Credential, error) {
	if _, err := s.authorize(ctx, actor, clientID, actWrite); err != nil {
		return store.Credential{}, err
	}
	c, err := s.store.CredentialGet(ctx, clientID, credentialID)
	if err != nil {
		return store.Credential{}, storeErr(err, "credential", "loading")
	}
	before := c
	var fe FieldErrors
	immutable(&fe, "credentialType", p.Type, c.Type)
	if p.AuthType.Set && (p.AuthType.Null || credential.Canonical(p.AuthType.Value) != c.AuthType) {
		fe.Add("credentialAuthType", fmt.Sprintf("cannot be changed (it is %q); create a new credential instead", c.AuthType))
	}
	immutable(&fe, "credentialRegion", p.Region, c.Region)
	checkName(&fe, "credentialName", p.Name, false)
	if p.Name.given() {
		c.Name = p.Name.Value
	}
	c.DefaultRuleEffect = effectOr(&fe, "credentialDefaultRuleEffect", p.DefaultRuleEffect, c.DefaultRuleEffect)
	c.ExpiresAt = optTime(p.ExpiresAt, c.ExpiresAt)
	in := mergeInput(&fe, p.Secret, p.Config)
	if len(fe) > 0 {
		return store.Credential{}, fe.Err()
	}
	if in != nil {
		if err := s.reparse(&c, in); err != nil {
			return store.Credential{}, err
		}
	}
	c.UpdatedAt = s.stamp()
	if err := s.recordChange(ctx, actor, s.credentialChange(ActionUpdated, &before, &c), func(ctx context.Context) error {
		return s.store.CredentialUpdate(ctx, c)
	}); err != nil {
		return store.Credential{}, storeErr(err, "credential", "updating")
	}
	s.notify(ctx, "credential updated")
	return c, nil
}

// CredentialDelete deletes a credential no proxy uses (else 409 naming them).
func (s *Service) CredentialDelete(ctx context.Context, actor Actor, clientID, credentialID string) error {
	if _, err := s.authorize(ctx, actor, clientID, actWrite); err != nil {
		return err
	}
	c, err := s.store.CredentialGet(ctx, clientID, credentialID)
	if err != nil {
		return storeErr(err, "credential", "loading")
	}
	if err := s.recordChange(ctx, actor, s.credentialChange(ActionDeleted, &c, nil), func(ctx context.Context) error {
		return s.store.CredentialDelete(ctx, clientID, credentialID)
	}); err != nil {
		return storeErr(err, "credential", "deleting")
	}
	s.notify(ctx, "credential deleted")
	return nil
}

// CredentialRotate replaces a credential's secret. A proxy credential's
// previous secret keeps working for the grace period; an apiKey proxy
// credential gets a generated key when none is given.
func (s *Service) CredentialRotate(ctx context.Context, actor Actor, clientID, credentialID string, p RotateParams) (CredentialResult, error) {
	if _, err := s.authorize(ctx, actor, clientID, actWrite); err != nil {
		return CredentialResult{}, err
	}
	c, err := s.store.CredentialGet(ctx, clientID, credentialID)
	if err != nil {
		return CredentialResult{}, storeErr(err, "credential", "loading")
	}
	var fe FieldErrors
	grace := intRange(&fe, "gracePeriodSeconds", p.GracePeriodSeconds, 0, 0, 0, int64(MaxGracePeriod/time.Second))
	reauthorize := c.AuthType == credential.OAuth2 && credentialIsAuthCode(c)
	if c.Type == store.CredentialTarget && len(p.Secret) == 0 && !reauthorize {
		fe.Add("credentialSecret", "is required to rotate a target credential")
	}
	if len(fe) > 0 {
		return CredentialResult{}, fe.Err()
	}
	base, err := s.currentInput(c)
	if err != nil {
		return CredentialResult{}, err
	}
	if c.AuthType == credential.JWTVerify {
		return s.finishRotate(ctx, actor, c, grace, func(c *store.Credential) (credential.Parsed, error) {
			return s.rotateJWTVerify(c, base, p.Secret, grace)
		})
	}
	if c.Type == store.CredentialProxy {
		// A proxy secret is replaced, never merged with the old one.
		delete(base, proxySecretField[c.AuthType])
	}
	if reauthorize {
		// the old refresh token keeps working until the new consent completes
		if _, given := p.Secret["refreshToken"]; !given && len(p.Secret) == 0 {
			return s.reauthorize(ctx, c, base)
		}
	}
	return s.finishRotate(ctx, actor, c, grace, func(*store.Credential) (credential.Parsed, error) {
		parsed, perrs := credential.Parse(c.Type, c.AuthType, overlay(base, p.Secret), generateKey)
		if len(perrs) > 0 {
			return parsed, Invalid(perrs...)
		}
		return parsed, nil
	})
}

// finishRotate applies a rotation's parsed settings, keeps the previous
// proxy hash for the grace period, stores and answers.
func (s *Service) finishRotate(ctx context.Context, actor Actor, c store.Credential, grace int64,
	parse func(*store.Credential) (credential.Parsed, error)) (CredentialResult, error) {
	before := c
	parsed, err := parse(&c)
	if err != nil {
		return CredentialResult{}, err
	}
	now := s.stamp()
	old := c.SecretHash
	until := c.PrevSecretUntil
	if err := s.applySecret(&c, parsed); err != nil {
		return CredentialResult{}, err
	}
	c.PrevSecretHash, c.PrevSecretUntil = nil, nil
	switch {
	case c.AuthType == credential.JWTVerify:
		c.PrevSecretUntil = until // set by rotateJWTVerify
	case c.Type == store.CredentialProxy && grace > 0 && len(old) > 0:
		u := now.Add(time.Duration(grace) * time.Second)
		c.PrevSecretHash, c.PrevSecretUntil = old, &u
	}
	c.UpdatedAt = now
	if err := s.recordChange(ctx, actor, s.credentialChange(ActionRotated, &before, &c), func(ctx context.Context) error {
		return s.store.CredentialUpdate(ctx, c)
	}); err != nil {
		return CredentialResult{}, storeErr(err, "credential", "updating")
	}
	res := CredentialResult{Credential: c, GeneratedSecret: parsed.Generated}
	if needsAuthorization(c, parsed) {
		if res.AuthorizationURL, err = s.startAuthorization(ctx, c, parsed.Config); err != nil {
			return CredentialResult{}, err
		}
	}
	s.notify(ctx, "credential rotated")
	return res, nil
}

// reauthorize starts a new consent for an authorization_code credential
// without changing it.
func (s *Service) reauthorize(ctx context.Context, c store.Credential, base credential.Input) (CredentialResult, error) {
	parsed, perrs := credential.Parse(c.Type, c.AuthType, base, generateKey)
	if len(perrs) > 0 {
		return CredentialResult{}, Invalid(perrs...)
	}
	u, err := s.startAuthorization(ctx, c, parsed.Config)
	if err != nil {
		return CredentialResult{}, err
	}
	return CredentialResult{Credential: c, AuthorizationURL: u}, nil
}

func credentialIsAuthCode(c store.Credential) bool {
	var cfg credential.Config
	return json.Unmarshal(c.Config, &cfg) == nil && cfg.IsAuthorizationCode()
}

func generateKey() string { return seal.RandomString(32) }

func optTime(o Optional[time.Time], current *time.Time) *time.Time {
	switch {
	case !o.Set:
		return current
	case o.Null:
		return nil
	}
	t := o.Value.UTC().Truncate(time.Millisecond)
	return &t
}

// applySecret stores parsed settings on c: readable config as JSON, the
// keyed hash of a proxy secret, the sealed secret where one is kept.
func (s *Service) applySecret(c *store.Credential, parsed credential.Parsed) error {
	if err := s.checkURLs(parsed.Config); err != nil {
		return err
	}
	cfg, err := json.Marshal(parsed.Config)
	if err != nil {
		return fmt.Errorf("encoding credential config: %w", err)
	}
	c.Config = cfg
	c.SecretHash, c.SecretSealed = nil, nil
	if parsed.HashInput != "" {
		c.SecretHash = s.keys.Hash(parsed.HashInput)
	}
	if parsed.Sealed {
		plain, err := json.Marshal(parsed.Secret)
		if err != nil {
			return fmt.Errorf("encoding credential secret: %w", err)
		}
		c.SecretSealed = s.keys.Seal(plain, credentialAAD(c.ID))
	}
	return nil
}

func credentialAAD(id string) string { return "credential:" + id }
