package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

// Credential is a credential as the API answers it (never the secret).
type Credential struct {
	ID                string          `json:"credentialId"`
	Name              string          `json:"credentialName"`
	Type              string          `json:"credentialType"`
	AuthType          string          `json:"credentialAuthType"`
	Region            string          `json:"credentialRegion"`
	Config            json.RawMessage `json:"credentialConfig"`
	DefaultRuleEffect string          `json:"credentialDefaultRuleEffect"`
	ExpiresAt         *time.Time      `json:"credentialExpiresAt"`
	Temporary         bool            `json:"credentialTemporary"`
	CreatedAt         time.Time       `json:"credentialCreatedAt"`
	UpdatedAt         time.Time       `json:"credentialUpdatedAt"`
}

// CredentialInput creates or changes a credential; nil fields are not sent.
type CredentialInput map[string]any

type credentialAnswer struct {
	Credential      Credential `json:"credential"`
	GeneratedSecret string     `json:"generatedSecret"`
}

// CreateCredential creates a credential and returns the generated key, if any.
func (c *Client) CreateCredential(ctx context.Context, clientID string, in CredentialInput) (Credential, string, error) {
	var out credentialAnswer
	err := c.Do(ctx, http.MethodPost, clientPath(clientID, "credentials"), in, &out)
	return out.Credential, out.GeneratedSecret, err
}

// Credential reads one credential.
func (c *Client) Credential(ctx context.Context, clientID, id string) (Credential, error) {
	var out credentialAnswer
	err := c.Do(ctx, http.MethodGet, clientPath(clientID, "credentials", id), nil, &out)
	return out.Credential, err
}

// Credentials lists a client's credentials.
func (c *Client) Credentials(ctx context.Context, clientID string, includeTemporary bool) ([]Credential, error) {
	var out struct {
		Credentials []Credential `json:"credentials"`
	}
	path := clientPath(clientID, "credentials")
	if includeTemporary {
		path += "?includeTemporary=true"
	}
	err := c.Do(ctx, http.MethodGet, path, nil, &out)
	return out.Credentials, err
}

// UpdateCredential changes the given fields.
func (c *Client) UpdateCredential(ctx context.Context, clientID, id string, in CredentialInput) (Credential, error) {
	var out credentialAnswer
	err := c.Do(ctx, http.MethodPut, clientPath(clientID, "credentials", id), in, &out)
	return out.Credential, err
}

// RotateCredential replaces a credential's secret; for proxy credentials
// the old secret keeps working for grace.
func (c *Client) RotateCredential(ctx context.Context, clientID, id string, secret map[string]any, grace time.Duration) (Credential, string, error) {
	in := map[string]any{"gracePeriodSeconds": int(grace.Seconds())}
	if secret != nil {
		in["credentialSecret"] = secret
	}
	var out credentialAnswer
	err := c.Do(ctx, http.MethodPost, clientPath(clientID, "credentials", id, "rotate"), in, &out)
	return out.Credential, out.GeneratedSecret, err
}

// DeleteCredential deletes a credential no proxy uses.
func (c *Client) DeleteCredential(ctx context.Context, clientID, id string) error {
	return c.Do(ctx, http.MethodDelete, clientPath(clientID, "credentials", id), nil, nil)
}

// Target is an upstream API.
type Target struct {
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
	CreatedAt          time.Time         `json:"targetCreatedAt"`
	UpdatedAt          time.Time         `json:"targetUpdatedAt"`
}

// TargetInput creates or changes a target; only given fields are sent.
type TargetInput map[string]any

// CreateTarget creates a target.
func (c *Client) CreateTarget(ctx context.Context, clientID string, in TargetInput) (Target, error) {
	var out struct {
		Target Target `json:"target"`
	}
	err := c.Do(ctx, http.MethodPost, clientPath(clientID, "targets"), in, &out)
	return out.Target, err
}

// UpdateTarget changes the given fields.
func (c *Client) UpdateTarget(ctx context.Context, clientID, id string, in TargetInput) (Target, error) {
	var out struct {
		Target Target `json:"target"`
	}
	err := c.Do(ctx, http.MethodPut, clientPath(clientID, "targets", id), in, &out)
	return out.Target, err
}

// DeleteTarget deletes a target no proxy uses.
func (c *Client) DeleteTarget(ctx context.Context, clientID, id string) error {
	return c.Do(ctx, http.MethodDelete, clientPath(clientID, "targets", id), nil, nil)
}

// TestResult is the outcome of a target connection test.
type TestResult struct {
	Status    int     `json:"status"`
	LatencyMs float64 `json:"latencyMs"`
	Code      string  `json:"code"`
	Message   string  `json:"message"`
}

// TestTarget calls the target's test path with a target credential.
func (c *Client) TestTarget(ctx context.Context, clientID, targetID, credentialID string) (TestResult, error) {
	var out struct {
		Test TestResult `json:"test"`
	}
	err := c.Do(ctx, http.MethodPost, clientPath(clientID, "targets", targetID, "test"), map[string]any{"credentialId": credentialID}, &out)
	return out.Test, err
}

// Proxy joins a proxy credential, a target and a target credential.
type Proxy struct {
	ID                   string    `json:"proxyId"`
	Name                 string    `json:"proxyName"`
	Active               bool      `json:"proxyActive"`
	Region               string    `json:"proxyRegion"`
	ProxyCredentialID    string    `json:"proxyProxyCredentialId"`
	TargetID             string    `json:"proxyTargetId"`
	TargetCredentialID   string    `json:"proxyTargetCredentialId"`
	DefaultRuleEffect    string    `json:"proxyDefaultRuleEffect"`
	MaxRequestsPerMinute int64     `json:"proxyMaxRequestsPerMinute"`
	MaxRequestsPerDay    int64     `json:"proxyMaxRequestsPerDay"`
	BaseURL              string    `json:"proxyBaseURL"`
	AsyncBaseURL         string    `json:"proxyAsyncBaseURL"`
	WebhookSecret        string    `json:"proxyWebhookSecret,omitempty"`
	CorsOrigins          []string  `json:"proxyCorsOrigins"`
	CreatedAt            time.Time `json:"proxyCreatedAt"`
	UpdatedAt            time.Time `json:"proxyUpdatedAt"`
}

// ProxyInput creates or changes a proxy; only given fields are sent.
type ProxyInput map[string]any

// CreateProxy creates a proxy.
func (c *Client) CreateProxy(ctx context.Context, clientID string, in ProxyInput) (Proxy, error) {
	var out struct {
		Proxy Proxy `json:"proxy"`
	}
	err := c.Do(ctx, http.MethodPost, clientPath(clientID, "proxies"), in, &out)
	return out.Proxy, err
}

// Proxy reads one proxy.
func (c *Client) Proxy(ctx context.Context, clientID, id string) (Proxy, error) {
	var out struct {
		Proxy Proxy `json:"proxy"`
	}
	err := c.Do(ctx, http.MethodGet, clientPath(clientID, "proxies", id), nil, &out)
	return out.Proxy, err
}

// ProxyListOptions filter and sort Proxies.
type ProxyListOptions struct {
	Region string
	Active *bool
	Sort   string // name | createdAt
	Order  string // asc | desc
}

// Proxies lists a client's proxies.
func (c *Client) Proxies(ctx context.Context, clientID string, o ProxyListOptions) ([]Proxy, error) {
	q := url.Values{}
	if o.Region != "" {
		q.Set("region", o.Region)
	}
	if o.Active != nil {
		q.Set("active", map[bool]string{true: "true", false: "false"}[*o.Active])
	}
	if o.Sort != "" {
		q.Set("sort", o.Sort)
	}
	if o.Order != "" {
		q.Set("order", o.Order)
	}
	path := clientPath(clientID, "proxies")
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out struct {
		Proxies []Proxy `json:"proxies"`
	}
	err := c.Do(ctx, http.MethodGet, path, nil, &out)
	return out.Proxies, err
}

// UpdateProxy changes the given fields.
func (c *Client) UpdateProxy(ctx context.Context, clientID, id string, in ProxyInput) (Proxy, error) {
	var out struct {
		Proxy Proxy `json:"proxy"`
	}
	err := c.Do(ctx, http.MethodPut, clientPath(clientID, "proxies", id), in, &out)
	return out.Proxy, err
}

// DeleteProxy deletes a proxy (never its credentials or target).
func (c *Client) DeleteProxy(ctx context.Context, clientID, id string) error {
	return c.Do(ctx, http.MethodDelete, clientPath(clientID, "proxies", id), nil, nil)
}
