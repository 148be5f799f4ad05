package api

import (
	"encoding/json"
	"time"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

// jsonTime is an RFC 3339 UTC time with milliseconds.
type jsonTime time.Time

// MarshalJSON writes the time as "2006-01-02T15:04:05.000Z".
func (t jsonTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z07:00") + `"`), nil
}

func optTime(t *time.Time) *jsonTime {
	if t == nil {
		return nil
	}
	j := jsonTime(*t)
	return &j
}

type regionJSON struct {
	ID        string  `json:"regionId"`
	Name      string  `json:"regionName"`
	Latitude  float64 `json:"regionLatitude"`
	Longitude float64 `json:"regionLongitude"`
	BaseURL   string  `json:"regionBaseURL"`
}

func regionView(r service.Region) regionJSON {
	return regionJSON{ID: r.ID, Name: r.Name, Latitude: r.Latitude, Longitude: r.Longitude, BaseURL: r.PublicURL}
}

type limitsJSON struct {
	RequestsPerMinute int64 `json:"requestsPerMinute"`
	RequestsPerDay    int64 `json:"requestsPerDay"`
}

type clientConfigJSON struct {
	Limits         limitsJSON `json:"limits"`
	AllowedRegions []string   `json:"allowedRegions"`
}

type clientJSON struct {
	ID        string           `json:"clientId"`
	Name      string           `json:"clientName"`
	Config    clientConfigJSON `json:"clientConfiguration"`
	CreatedAt jsonTime         `json:"clientCreatedAt"`
	UpdatedAt jsonTime         `json:"clientUpdatedAt"`
}

func clientView(c store.Client) clientJSON {
	return clientJSON{ID: c.ID, Name: c.Name, CreatedAt: jsonTime(c.CreatedAt), UpdatedAt: jsonTime(c.UpdatedAt),
		Config: clientConfigJSON{
			Limits:         limitsJSON{RequestsPerMinute: c.Config.RequestsPerMinute, RequestsPerDay: c.Config.RequestsPerDay},
			AllowedRegions: nonNil(c.Config.AllowedRegions),
		}}
}

type membershipJSON struct {
	ClientID   string   `json:"clientId"`
	ClientName string   `json:"clientName"`
	Roles      []string `json:"roles"`
}

type userJSON struct {
	ID            string           `json:"userId"`
	Name          string           `json:"userName"`
	InstanceAdmin bool             `json:"userInstanceAdmin"`
	CreatedAt     jsonTime         `json:"userCreatedAt"`
	UpdatedAt     jsonTime         `json:"userUpdatedAt"`
	Clients       []membershipJSON `json:"userClients"`
}

func userView(u service.UserInfo) userJSON {
	out := userJSON{ID: u.User.ID, Name: u.User.Name, InstanceAdmin: u.User.InstanceAdmin,
		CreatedAt: jsonTime(u.User.CreatedAt), UpdatedAt: jsonTime(u.User.UpdatedAt), Clients: []membershipJSON{}}
	for _, m := range u.Clients {
		out.Clients = append(out.Clients, membershipJSON{ClientID: m.Client.ID, ClientName: m.Client.Name, Roles: nonNil(m.Roles)})
	}
	return out
}

type tokenJSON struct {
	ID         string    `json:"tokenId"`
	Name       string    `json:"tokenName"`
	Hint       string    `json:"tokenHint"`
	CreatedAt  jsonTime  `json:"tokenCreatedAt"`
	LastUsedAt *jsonTime `json:"tokenLastUsedAt"`
	ExpiresAt  *jsonTime `json:"tokenExpiresAt"`
	// Token is the full value, present only in the create answer.
	Token string `json:"token,omitempty"`
}

func tokenView(t store.Token) tokenJSON {
	return tokenJSON{ID: t.ID, Name: t.Name, Hint: t.Hint, CreatedAt: jsonTime(t.CreatedAt),
		LastUsedAt: optTime(t.LastUsedAt), ExpiresAt: optTime(t.ExpiresAt)}
}

type credentialJSON struct {
	ID                string          `json:"credentialId"`
	Name              string          `json:"credentialName"`
	Type              string          `json:"credentialType"`
	AuthType          string          `json:"credentialAuthType"`
	Region            string          `json:"credentialRegion"`
	Config            json.RawMessage `json:"credentialConfig"`
	DefaultRuleEffect string          `json:"credentialDefaultRuleEffect"`
	ExpiresAt         *jsonTime       `json:"credentialExpiresAt"`
	Temporary         bool            `json:"credentialTemporary"`
	// PreviousSecretValidUntil is when a rotated-out proxy secret stops working.
	PreviousSecretValidUntil *jsonTime `json:"credentialPreviousSecretValidUntil"`
	GeneratedSecret          string    `json:"generatedSecret,omitempty"`
	CreatedAt                jsonTime  `json:"credentialCreatedAt"`
	UpdatedAt                jsonTime  `json:"credentialUpdatedAt"`
}

// credentialView renders a credential: readable config only, never the
// hash or the sealed secret.
func credentialView(c store.Credential) credentialJSON {
	cfg := json.RawMessage(c.Config)
	if len(cfg) == 0 || !json.Valid(cfg) {
		cfg = json.RawMessage(`{}`)
	}
	return credentialJSON{ID: c.ID, Name: c.Name, Type: c.Type, AuthType: c.AuthType, Region: c.Region,
		Config: cfg, DefaultRuleEffect: c.DefaultRuleEffect, ExpiresAt: optTime(c.ExpiresAt),
		Temporary: c.Temporary, PreviousSecretValidUntil: optTime(c.PrevSecretUntil),
		CreatedAt: jsonTime(c.CreatedAt), UpdatedAt: jsonTime(c.UpdatedAt)}
}

type targetJSON struct {
	ID                 string            `json:"targetId"`
	Name               string            `json:"targetName"`
	BaseURL            string            `json:"targetBaseURL"`
	TestPath           string            `json:"targetTestPath"`
	Region             string            `json:"targetRegion"`
	DefaultRuleEffect  string            `json:"targetDefaultRuleEffect"`
	TimeoutSeconds     int               `json:"targetTimeoutSeconds"`
	IdleTimeoutSeconds int               `json:"targetIdleTimeoutSeconds"`
	Headers            map[string]string `json:"targetHeaders"`
	MaxResponseBytes   int64             `json:"targetMaxResponseBytes"`
	TLS                store.TargetTLS   `json:"targetTLS"`
	CreatedAt          jsonTime          `json:"targetCreatedAt"`
	UpdatedAt          jsonTime          `json:"targetUpdatedAt"`
}

func targetView(t store.Target) targetJSON {
	h := t.Headers
	if h == nil {
		h = map[string]string{}
	}
	return targetJSON{ID: t.ID, Name: t.Name, BaseURL: t.BaseURL, TestPath: t.TestPath, Region: t.Region,
		DefaultRuleEffect: t.DefaultRuleEffect, TimeoutSeconds: t.TimeoutSeconds, IdleTimeoutSeconds: t.IdleTimeoutSeconds,
		Headers: h, MaxResponseBytes: t.MaxResponseBytes, TLS: t.TLS,
		CreatedAt: jsonTime(t.CreatedAt), UpdatedAt: jsonTime(t.UpdatedAt)}
}

type proxyJSON struct {
	ID                         string   `json:"proxyId"`
	Name                       string   `json:"proxyName"`
	Active                     bool     `json:"proxyActive"`
	Region                     string   `json:"proxyRegion"`
	ProxyCredentialID          string   `json:"proxyProxyCredentialId"`
	TargetID                   string   `json:"proxyTargetId"`
	TargetCredentialID         string   `json:"proxyTargetCredentialId"`
	DefaultRuleEffect          string   `json:"proxyDefaultRuleEffect"`
	MaxRequestsPerMinute       int64    `json:"proxyMaxRequestsPerMinute"`
	MaxRequestsPerDay          int64    `json:"proxyMaxRequestsPerDay"`
	AsyncMaxRetries            *int     `json:"proxyAsyncMaxRetries"`
	AsyncRetryWindowSeconds    *int     `json:"proxyAsyncRetryWindowSeconds"`
	AsyncAttemptTimeoutSeconds *int     `json:"proxyAsyncAttemptTimeoutSeconds"`
	AsyncCallbackOrigins       []string `json:"proxyAsyncCallbackOrigins"`
	CorsOrigins                []string `json:"proxyCorsOrigins"`
	LogBodies                  bool     `json:"proxyLogBodies"`
	BaseURL                    string   `json:"proxyBaseURL"`
	AsyncBaseURL               string   `json:"proxyAsyncBaseURL"`
	// WebhookSecret is answered to owners and admins only.
	WebhookSecret string   `json:"proxyWebhookSecret,omitempty"`
	CreatedAt     jsonTime `json:"proxyCreatedAt"`
	UpdatedAt     jsonTime `json:"proxyUpdatedAt"`
}

func proxyView(p service.ProxyView) proxyJSON {
	return proxyJSON{ID: p.ID, Name: p.Name, Active: p.Active, Region: p.Region,
		ProxyCredentialID: p.ProxyCredentialID, TargetID: p.TargetID, TargetCredentialID: p.TargetCredentialID,
		DefaultRuleEffect: p.DefaultRuleEffect, MaxRequestsPerMinute: p.MaxRequestsPerMinute, MaxRequestsPerDay: p.MaxRequestsPerDay,
		AsyncMaxRetries: p.AsyncMaxRetries, AsyncRetryWindowSeconds: p.AsyncRetryWindowSeconds,
		AsyncAttemptTimeoutSeconds: p.AsyncAttemptTimeoutSeconds,
		AsyncCallbackOrigins:       nonNil(p.AsyncCallbackOrigins), CorsOrigins: nonNil(p.CorsOrigins),
		LogBodies: p.LogBodies, BaseURL: p.BaseURL, AsyncBaseURL: p.AsyncBaseURL, WebhookSecret: p.WebhookSecret,
		CreatedAt: jsonTime(p.CreatedAt), UpdatedAt: jsonTime(p.UpdatedAt)}
}

type testJSON struct {
	Status    int     `json:"status"`
	LatencyMs float64 `json:"latencyMs"`
	Code      string  `json:"code"`
	Message   string  `json:"message"`
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, 0, len(in))
	for _, v := range in {
		out = append(out, f(v))
	}
	return out
}
