package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/store"
)

// proxyParts are the components an input names, loaded and type-checked;
// a nil part was not given (or was invalid and already reported).
type proxyParts struct {
	proxyCred  *store.Credential
	target     *store.Target
	targetCred *store.Credential
}

// loadParts loads the credentials and target an input names and checks
// that each exists in the client, has the right side and is not temporary.
func (s *Service) loadParts(ctx context.Context, fe *FieldErrors, clientID string, p ProxyParams) (proxyParts, error) {
	var out proxyParts
	var err error
	if p.ProxyCredentialID.given() && p.ProxyCredentialID.Value != "" {
		if out.proxyCred, err = s.loadCred(ctx, fe, clientID, "proxyProxyCredentialId", p.ProxyCredentialID.Value, store.CredentialProxy); err != nil {
			return out, err
		}
	}
	if p.TargetCredentialID.given() && p.TargetCredentialID.Value != "" {
		if out.targetCred, err = s.loadCred(ctx, fe, clientID, "proxyTargetCredentialId", p.TargetCredentialID.Value, store.CredentialTarget); err != nil {
			return out, err
		}
	}
	if p.TargetID.given() && p.TargetID.Value != "" {
		t, err := s.store.TargetGet(ctx, clientID, p.TargetID.Value)
		switch {
		case errors.Is(err, store.ErrNotFound):
			fe.Add("proxyTargetId", fmt.Sprintf("target %s not found", p.TargetID.Value))
		case err != nil:
			return out, fmt.Errorf("loading target: %w", err)
		default:
			out.target = &t
		}
	}
	return out, nil
}

func (s *Service) loadCred(ctx context.Context, fe *FieldErrors, clientID, field, credID, side string) (*store.Credential, error) {
	c, err := s.store.CredentialGet(ctx, clientID, credID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		fe.Add(field, fmt.Sprintf("credential %s not found", credID))
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("loading credential: %w", err)
	case c.Type != side:
		fe.Add(field, fmt.Sprintf("credential %s is a %s credential; %s needs a %s credential", credID, c.Type, field, side))
		return nil, nil
	case c.Temporary:
		fe.Add(field, fmt.Sprintf("credential %s is temporary (its authorization is not complete)", credID))
		return nil, nil
	}
	return &c, nil
}

// sameRegion answers the region-mismatch 400 naming every part that is
// not in the proxy's region.
func (pp proxyParts) sameRegion(region string) error {
	var fields []credential.FieldError
	add := func(field, kind, id, r string) {
		if r != region {
			fields = append(fields, credential.FieldError{Field: field,
				Message: fmt.Sprintf("%s %s is in region %s; the proxy is in region %s", kind, id, r, region)})
		}
	}
	if pp.proxyCred != nil {
		add("proxyProxyCredentialId", "credential", pp.proxyCred.ID, pp.proxyCred.Region)
	}
	if pp.target != nil {
		add("proxyTargetId", "target", pp.target.ID, pp.target.Region)
	}
	if pp.targetCred != nil {
		add("proxyTargetCredentialId", "credential", pp.targetCred.ID, pp.targetCred.Region)
	}
	if len(fields) == 0 {
		return nil
	}
	return BadRequest(RegionMismatch, fields...)
}
