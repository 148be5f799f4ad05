package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/id"
	"github.com/keyway-dev/keyway/internal/store"
)

// Target defaults and bounds.
const (
	DefaultTargetTimeoutSeconds     = 30
	MaxTargetTimeoutSeconds         = 600
	DefaultTargetIdleTimeoutSeconds = 60
	MaxTargetIdleTimeoutSeconds     = 3600
	DefaultTargetMaxResponseBytes   = 6 << 20
	MaxTargetMaxResponseBytes       = 1 << 30
	DefaultTargetTestPath           = "/"
)

// TargetParams are the inputs of a target create or update.
type TargetParams struct {
	Name Optional[string]
	// BaseURL is an absolute http(s) URL without userinfo, query or
	// fragment; a trailing "/" is removed.
	BaseURL  Optional[string]
	TestPath Optional[string]
	// Region is immutable.
	Region             Optional[string]
	DefaultRuleEffect  Optional[string]
	TimeoutSeconds     Optional[int64]
	IdleTimeoutSeconds Optional[int64]
	MaxResponseBytes   Optional[int64]
	Headers            Optional[map[string]string]
	TLS                Optional[store.TargetTLS]
}

// TargetList lists a client's targets.
func (s *Service) TargetList(ctx context.Context, actor Actor, clientID string) ([]store.Target, error) {
	if _, err := s.authorize(ctx, actor, clientID, actRead); err != nil {
		return nil, err
	}
	ts, err := s.store.TargetList(ctx, clientID)
	if err != nil {
		return nil, fmt.Errorf("listing targets: %w", err)
	}
	return ts, nil
}

// TargetGet reads one target.
func (s *Service) TargetGet(ctx context.Context, actor Actor, clientID, targetID string) (store.Target, error) {
	if _, err := s.authorize(ctx, actor, clientID, actRead); err != nil {
		return store.Target{}, err
	}
	t, err := s.store.TargetGet(ctx, clientID, targetID)
	return t, storeErr(err, "target", "loading")
}

// TargetCreate validates and stores a new target.
func (s *Service) TargetCreate(ctx context.Context, actor Actor, clientID string, p TargetParams) (store.Target, error) {
	if _, err := s.authorize(ctx, actor, clientID, actWrite); err != nil {
		return store.Target{}, err
	}
	client, err := s.store.ClientGet(ctx, clientID)
	if err != nil {
		return store.Target{}, storeErr(err, "client", "loading")
	}
	now := s.stamp()
	t := store.Target{
		ID: id.New(id.Target), ClientID: clientID, TestPath: DefaultTargetTestPath,
		TimeoutSeconds: DefaultTargetTimeoutSeconds, IdleTimeoutSeconds: DefaultTargetIdleTimeoutSeconds,
		MaxResponseBytes: DefaultTargetMaxResponseBytes, CreatedAt: now, UpdatedAt: now,
	}
	var fe FieldErrors
	t.Region = s.pickRegion(&fe, "targetRegion", p.Region, client)
	if !p.BaseURL.given() {
		fe.Add("targetBaseURL", "is required")
	}
	s.applyTarget(&fe, &t, p, true)
	if err := fe.Err(); err != nil {
		return store.Target{}, err
	}
	if err := s.recordChange(ctx, actor, targetChange(ActionCreated, nil, &t), func(ctx context.Context) error {
		return s.store.TargetCreate(ctx, t)
	}); err != nil {
		return store.Target{}, storeErr(err, "target", "creating")
	}
	s.notify(ctx, "target created")
	return t, nil
}

// TargetUpdate changes the given fields of a target.
func (s *Service) TargetUpdate(ctx context.Context, actor Actor, clientID, targetID string, p TargetParams) (store.Target, error) {
	if _, err := s.authorize(ctx, actor, clientID, actWrite); err != nil {
		return store.Target{}, err
	}
	t, err := s.store.TargetGet(ctx, clientID, targetID)
	if err != nil {
		return store.Target{}, storeErr(err, "target", "loading")
	}
	before := t
	var fe FieldErrors
	immutable(&fe, "targetRegion", p.Region, t.Region)
	if p.BaseURL.Set && p.BaseURL.Null {
		fe.Add("targetBaseURL", "is required")
	}
	s.applyTarget(&fe, &t, p, false)
	if err := fe.Err(); err != nil {
		return store.Target{}, err
	}
	t.UpdatedAt = s.stamp()
	if err := s.recordChange(ctx, actor, targetChange(ActionUpdated, &before, &t), func(ctx context.Context) error {
		return s.store.TargetUpdate(ctx, t)
	}); err != nil {
		return store.Target{}, storeErr(err, "target", "updating")
	}
	s.notify(ctx, "target updated")
	return t, nil
}

// TargetDelete deletes a target no proxy uses (else 409 naming them).
func (s *Service) TargetDelete(ctx context.Context, actor Actor, clientID, targetID string) error {
	if _, err := s.authorize(ctx, actor, clientID, actWrite); err != nil {
		return err
	}
	t, err := s.store.TargetGet(ctx, clientID, targetID)
	if err != nil {
		return storeErr(err, "target", "loading")
	}
	if err := s.recordChange(ctx, actor, targetChange(ActionDeleted, &t, nil), func(ctx context.Context) error {
		return s.store.TargetDelete(ctx, clientID, targetID)
	}); err != nil {
		return storeErr(err, "target", "deleting")
	}
	s.notify(ctx, "target deleted")
	return nil
}

// TargetTest calls the target's test path with one of the client's target
// credentials in the same region.
func (s *Service) TargetTest(ctx context.Context, actor Actor, clientID, targetID, credentialID string) (TestResult, error) {
	if _, err := s.authorize(ctx, actor, clientID, actWrite); err != nil {
		return TestResult{}, err
	}
	t, err := s.store.TargetGet(ctx, clientID, targetID)
	if err != nil {
		return TestResult{}, storeErr(err, "target", "loading")
	}
	if credentialID == "" {
		return TestResult{}, Invalid(credential.FieldError{Field: "credentialId", Message: "is required"})
	}
	c, err := s.store.CredentialGet(ctx, clientID, credentialID)
	if errors.Is(err, store.ErrNotFound) {
		return TestResult{}, Invalid(credential.FieldError{Field: "credentialId", Message: fmt.Sprintf("credential %s not found", credentialID)})
	}
	if err != nil {
		return TestResult{}, fmt.Errorf("loading credential: %w", err)
	}
	var fe FieldErrors
	if c.Type != store.CredentialTarget {
		fe.Add("credentialId", fmt.Sprintf("credential %s is a %s credential; a test needs a target credential", c.ID, c.Type))
	} else if c.Region != t.Region {
		fe.Add("credentialId", fmt.Sprintf("credential %s is in region %s, the target in %s", c.ID, c.Region, t.Region))
	}
	if err := fe.Err(); err != nil {
		return TestResult{}, err
	}
	if s.tester == nil {
		return TestResult{}, Unavailable("Connection tests are not available on this server")
	}
	res, err := s.tester.TestTarget(ctx, t, c)
	if err != nil {
		return TestResult{}, fmt.Errorf("testing target: %w", err)
	}
	return res, nil
}

// applyTarget validates p and writes the given fields onto t.
func (s *Service) applyTarget(fe *FieldErrors, t *store.Target, p TargetParams, create bool) {
	checkName(fe, "targetName", p.Name, create)
	if p.Name.given() {
		t.Name = p.Name.Value
	}
	if p.BaseURL.given() {
		if u, msg := normalizeBaseURL(p.BaseURL.Value); msg != "" {
			fe.Add("targetBaseURL", msg)
		} else if err := s.checkURL(u); err != nil {
			fe.Add("targetBaseURL", "is refused by the egress policy: "+err.Error())
		} else {
			t.BaseURL = u
		}
	}
	if p.TestPath.Set {
		if msg := checkTestPath(p.TestPath); msg != "" {
			fe.Add("targetTestPath", msg)
		} else if p.TestPath.Null || p.TestPath.Value == "" {
			t.TestPath = DefaultTargetTestPath
		} else {
			t.TestPath = p.TestPath.Value
		}
	}
	t.DefaultRuleEffect = effectOr(fe, "targetDefaultRuleEffect", p.DefaultRuleEffect, t.DefaultRuleEffect)
	t.TimeoutSeconds = int(intRange(fe, "targetTimeoutSeconds", p.TimeoutSeconds, int64(t.TimeoutSeconds),
		DefaultTargetTimeoutSeconds, 1, MaxTargetTimeoutSeconds))
	t.IdleTimeoutSeconds = int(intRange(fe, "targetIdleTimeoutSeconds", p.IdleTimeoutSeconds, int64(t.IdleTimeoutSeconds),
		DefaultTargetIdleTimeoutSeconds, 1, MaxTargetIdleTimeoutSeconds))
	t.MaxResponseBytes = intRange(fe, "targetMaxResponseBytes", p.MaxResponseBytes, t.MaxResponseBytes,
		DefaultTargetMaxResponseBytes, 0, MaxTargetMaxResponseBytes)
	if p.Headers.Set {
		t.Headers = checkHeaders(fe, "targetHeaders", p.Headers.Value)
	}
	if p.TLS.Set {
		t.TLS = checkTLS(fe, "targetTLS", p.TLS.Value)
	}
}

func (s *Service) checkURL(u string) error {
	if s.check == nil {
		return nil
	}
	return s.check.CheckURL(u)
}
