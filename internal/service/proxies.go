package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/keyway-dev/keyway/internal/id"
	"github.com/keyway-dev/keyway/internal/store"
)

// Bounds of the per-proxy async overrides.
const (
	MaxAsyncRetries               = 100
	MaxAsyncRetryWindowSeconds    = 604800
	MaxAsyncAttemptTimeoutSeconds = 300
)

// RegionMismatch is the message of the 400 answered when a proxy's parts
// are not all in one region.
const RegionMismatch = "All components must be in the same region"

// ProxyParams are the inputs of a proxy create or update.
type ProxyParams struct {
	Name Optional[string]
	// Active defaults to true.
	Active Optional[bool]
	// Region is immutable; on create it defaults to the proxy credential's.
	Region             Optional[string]
	ProxyCredentialID  Optional[string]
	TargetID           Optional[string]
	TargetCredentialID Optional[string]
	DefaultRuleEffect  Optional[string]
	// MaxRequestsPerMinute and MaxRequestsPerDay: absent on create takes the
	// client's default; null or 0 is unlimited.
	MaxRequestsPerMinute Optional[int64]
	MaxRequestsPerDay    Optional[int64]
	// Async overrides; null means the server default.
	AsyncMaxRetries            Optional[int64]
	AsyncRetryWindowSeconds    Optional[int64]
	AsyncAttemptTimeoutSeconds Optional[int64]
	AsyncCallbackOrigins       Optional[[]string]
	CorsOrigins                Optional[[]string]
	// LogBodies captures request and response bodies in the request log
	// (default false).
	LogBodies Optional[bool]
}

// ProxyView is a proxy with its derived fields.
type ProxyView struct {
	store.Proxy
	// BaseURL is where callers send sync requests ({region URL}/api/{id}).
	BaseURL string
	// AsyncBaseURL is where callers submit async requests.
	AsyncBaseURL string
	// WebhookSecret (whsec_…) is set only for owners and admins.
	WebhookSecret string
}

// ProxyListQuery holds the list parameters as given; invalid values are a
// 400 naming the parameter.
type ProxyListQuery struct {
	Region string
	// Active is "", "true" or "false".
	Active string
	// Sort is "", "name" or "createdAt".
	Sort string
	// Order is "", "asc" or "desc".
	Order string
}

// ProxyList lists a client's proxies, filtered and sorted.
func (s *Service) ProxyList(ctx context.Context, actor Actor, clientID string, q ProxyListQuery) ([]ProxyView, error) {
	m, err := s.authorize(ctx, actor, clientID, actRead)
	if err != nil {
		return nil, err
	}
	p := store.ProxyListParams{ClientID: clientID, Region: q.Region, Sort: q.Sort}
	var fe FieldErrors
	if _, ok := s.region(q.Region); q.Region != "" && !ok {
		fe.Add("region", fmt.Sprintf("unknown region %q", q.Region))
	}
	switch q.Active {
	case "":
	case "true", "false":
		active := q.Active == "true"
		p.Active = &active
	default:
		fe.Add("active", `must be "true" or "false"`)
	}
	if q.Sort != "" && q.Sort != "name" && q.Sort != "createdAt" {
		fe.Add("sort", `must be "name" or "createdAt"`)
	}
	switch q.Order {
	case "", "asc":
	case "desc":
		p.Desc = true
	default:
		fe.Add("order", `must be "asc" or "desc"`)
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	ps, err := s.store.ProxyList(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("listing proxies: %w", err)
	}
	out := make([]ProxyView, 0, len(ps))
	for _, px := range ps {
		v, err := s.view(px, allowed(m.Roles, actReadWebhook))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// ProxyGet reads one proxy.
func (s *Service) ProxyGet(ctx context.Context, actor Actor, clientID, proxyID string) (ProxyView, error) {
	m, err := s.authorize(ctx, actor, clientID, actRead)
	if err != nil {
		return ProxyView{}, err
	}
	p, err := s.store.ProxyGet(ctx, clientID, proxyID)
	if err != nil {
		return ProxyView{}, storeErr(err, "proxy", "loading")
	}
	return s.view(p, allowed(m.Roles, actReadWebhook))
}

// ProxyCreate validates and stores a new proxy with a fresh webhook secret.
func (s *Service) ProxyCreate(ctx context.Context, actor Actor, clientID string, p ProxyParams) (ProxyView, error) {
	m, err := s.authorize(ctx, actor, clientID, actWrite)
	if err != nil {
		return ProxyView{}, err
	}
	client, err := s.store.ClientGet(ctx, clientID)
	if err != nil {
		return ProxyView{}, storeErr(err, "client", "loading")
	}
	now := s.stamp()
	px := store.Proxy{ID: id.New(id.Proxy), ClientID: clientID, Active: true,
		MaxRequestsPerMinute: client.Config.RequestsPerMinute, MaxRequestsPerDay: client.Config.RequestsPerDay,
		CreatedAt: now, UpdatedAt: now}
	var fe FieldErrors
	for _, r := range []struct {
		field string
		o     Optional[string]
	}{{"proxyProxyCredentialId", p.ProxyCredentialID}, {"proxyTargetId", p.TargetID}, {"proxyTargetCredentialId", p.TargetCredentialID}} {
		if !r.o.given() || r.o.Value == "" {
			fe.Add(r.field, "is required")
		}
	}
	parts, err := s.loadParts(ctx, &fe, clientID, p)
	if err != nil {
		return ProxyView{}, err
	}
	switch {
	case p.Region.given():
		px.Region = p.Region.Value
		s.checkRegion(&fe, "proxyRegion", px.Region, client)
	case parts.proxyCred != nil:
		px.Region = parts.proxyCred.Region
		s.checkRegion(&fe, "proxyRegion", px.Region, client)
	default:
		px.Region = s.pickRegion(&fe, "proxyRegion", p.Region, client)
	}
	s.applyProxy(&fe, &px, p, true)
	if err := fe.Err(); err != nil {
		return ProxyView{}, err
	}
	if err := parts.sameRegion(px.Region); err != nil {
		return ProxyView{}, err
	}
	secret, err := newWebhookSecret()
	if err != nil {
		return ProxyView{}, err
	}
	px.WebhookSecretSealed = s.keys.Seal([]byte(secret), webhookAAD(px.ID))
	if err := s.recordChange(ctx, actor, proxyChange(ActionCreated, nil, &px), func(ctx context.Context) error {
		return s.store.ProxyCreate(ctx, px)
	}); err != nil {
		return ProxyView{}, storeErr(err, "proxy", "creating")
	}
	s.notify(ctx, "proxy created")
	return s.view(px, allowed(m.Roles, actReadWebhook))
}

// ProxyUpdate changes the given fields of a proxy; new components are
// checked like on create. Toggling proxyActive loses nothing.
func (s *Service) ProxyUpdate(ctx context.Context, actor Actor, clientID, proxyID string, p ProxyParams) (ProxyView, error) {
	m, err := s.authorize(ctx, actor, clientID, actWrite)
	if err != nil {
		return ProxyView{}, err
	}
	px, err := s.store.ProxyGet(ctx, clientID, proxyID)
	if err != nil {
		return ProxyView{}, storeErr(err, "proxy", "loading")
	}
	before := px
	var fe FieldErrors
	immutable(&fe, "proxyRegion", p.Region, px.Region)
	for _, r := range []struct {
		field string
		o     Optional[string]
	}{{"proxyProxyCredentialId", p.ProxyCredentialID}, {"proxyTargetId", p.TargetID}, {"proxyTargetCredentialId", p.TargetCredentialID}} {
		if r.o.Set && (r.o.Null || r.o.Value == "") {
			fe.Add(r.field, "is required")
		}
	}
	parts, err := s.loadParts(ctx, &fe, clientID, p)
	if err != nil {
		return ProxyView{}, err
	}
	s.applyProxy(&fe, &px, p, false)
	if err := fe.Err(); err != nil {
		return ProxyView{}, err
	}
	if err := parts.sameRegion(px.Region); err != nil {
		return ProxyView{}, err
	}
	px.UpdatedAt = s.stamp()
	if err := s.recordChange(ctx, actor, proxyChange(ActionUpdated, &before, &px), func(ctx context.Context) error {
		return s.store.ProxyUpdate(ctx, px)
	}); err != nil {
		return ProxyView{}, storeErr(err, "proxy", "updating")
	}
	s.notify(ctx, "proxy updated")
	return s.view(px, allowed(m.Roles, actReadWebhook))
}

// ProxyDelete deletes a proxy with its rules, filters and meters, never its
// credentials or target.
func (s *Service) ProxyDelete(ctx context.Context, actor Actor, clientID, proxyID string) error {
	if _, err := s.authorize(ctx, actor, clientID, actWrite); err != nil {
		return err
	}
	px, err := s.store.ProxyGet(ctx, clientID, proxyID)
	if err != nil {
		return storeErr(err, "proxy", "loading")
	}
	if err := s.recordChange(ctx, actor, proxyChange(ActionDeleted, &px, nil), func(ctx context.Context) error {
		return s.store.ProxyDelete(ctx, clientID, proxyID)
	}); err != nil {
		return storeErr(err, "proxy", "deleting")
	}
	s.cancelAsyncOf(ctx, clientID, proxyID)
	s.notify(ctx, "proxy deleted")
	return nil
}

// applyProxy validates p's plain settings and writes the given ones onto px.
func (s *Service) applyProxy(fe *FieldErrors, px *store.Proxy, p ProxyParams, create bool) {
	checkName(fe, "proxyName", p.Name, create)
	if p.Name.given() {
		px.Name = p.Name.Value
	}
	if p.Active.Set {
		px.Active = p.Active.Null || p.Active.Value
	}
	for _, r := range []struct {
		field string
		o     Optional[string]
		dst   *string
	}{{"proxyProxyCredentialId", p.ProxyCredentialID, &px.ProxyCredentialID}, {"proxyTargetId", p.TargetID, &px.TargetID},
		{"proxyTargetCredentialId", p.TargetCredentialID, &px.TargetCredentialID}} {
		if r.o.given() {
			*r.dst = r.o.Value
		}
	}
	px.DefaultRuleEffect = effectOr(fe, "proxyDefaultRuleEffect", p.DefaultRuleEffect, px.DefaultRuleEffect)
	const unbounded = 1 << 53
	px.MaxRequestsPerMinute = intRange(fe, "proxyMaxRequestsPerMinute", p.MaxRequestsPerMinute, px.MaxRequestsPerMinute, 0, 0, unbounded)
	px.MaxRequestsPerDay = intRange(fe, "proxyMaxRequestsPerDay", p.MaxRequestsPerDay, px.MaxRequestsPerDay, 0, 0, unbounded)
	px.AsyncMaxRetries = optInt(fe, "proxyAsyncMaxRetries", p.AsyncMaxRetries, px.AsyncMaxRetries, 0, MaxAsyncRetries)
	px.AsyncRetryWindowSeconds = optInt(fe, "proxyAsyncRetryWindowSeconds", p.AsyncRetryWindowSeconds, px.AsyncRetryWindowSeconds, 1, MaxAsyncRetryWindowSeconds)
	px.AsyncAttemptTimeoutSeconds = optInt(fe, "proxyAsyncAttemptTimeoutSeconds", p.AsyncAttemptTimeoutSeconds, px.AsyncAttemptTimeoutSeconds, 1, MaxAsyncAttemptTimeoutSeconds)
	if p.AsyncCallbackOrigins.Set {
		px.AsyncCallbackOrigins = checkOrigins(fe, "proxyAsyncCallbackOrigins", p.AsyncCallbackOrigins.Value, false)
		s.checkCallbackOrigins(fe, p.AsyncCallbackOrigins.Value)
	}
	if p.CorsOrigins.Set {
		px.CorsOrigins = checkOrigins(fe, "proxyCorsOrigins", p.CorsOrigins.Value, true)
	}
	if p.LogBodies.Set {
		px.LogBodies = !p.LogBodies.Null && p.LogBodies.Value
	}
}

// optInt validates a nullable integer override (nil = server default).
func optInt(fe *FieldErrors, field string, o Optional[int64], current *int, lo, hi int64) *int {
	switch {
	case !o.Set:
		return current
	case o.Null:
		return nil
	case o.Value < lo || o.Value > hi:
		fe.Add(field, fmt.Sprintf("must be between %d and %d, or null for the server default", lo, hi))
		return current
	}
	v := int(o.Value)
	return &v
}

// view adds the derived fields; the webhook secret only when showSecret.
func (s *Service) view(p store.Proxy, showSecret bool) (ProxyView, error) {
	v := ProxyView{Proxy: p}
	if r, ok := s.region(p.Region); ok {
		base := strings.TrimRight(r.PublicURL, "/")
		v.BaseURL = base + "/api/" + p.ID
		v.AsyncBaseURL = base + "/async/" + p.ID
	}
	if showSecret && len(p.WebhookSecretSealed) > 0 {
		plain, err := s.keys.Open(p.WebhookSecretSealed, webhookAAD(p.ID))
		if err != nil {
			return ProxyView{}, fmt.Errorf("opening webhook secret of %s: %w", p.ID, err)
		}
		v.WebhookSecret = string(plain)
	}
	return v, nil
}

func webhookAAD(id string) string { return "proxy-webhook:" + id }

// newWebhookSecret makes a Standard Webhooks secret: whsec_ + base64 of 32
// random bytes.
func newWebhookSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b), nil
}
