package client

import (
	"context"
	"net/http"
	"time"
)

// Owner kinds for rules and filters: the path segment of the owner's
// collection.
const (
	OwnerCredentials = "credentials"
	OwnerProxies     = "proxies"
	OwnerTargets     = "targets"
)

// RuleCheck is a header or query check of a rule.
type RuleCheck struct {
	NamePattern  string `json:"namePattern"`
	ValuePattern string `json:"valuePattern,omitempty"`
	Presence     string `json:"presence,omitempty"`
}

// RuleBodyCheck is a JSON body check of a rule.
type RuleBodyCheck struct {
	Path         string `json:"path"`
	ValuePattern string `json:"valuePattern,omitempty"`
	Presence     string `json:"presence,omitempty"`
}

// Rule is an authorization rule.
type Rule struct {
	ID           string          `json:"ruleId"`
	Scope        string          `json:"ruleScope"`
	OwnerID      string          `json:"ruleOwnerId"`
	Effect       string          `json:"effect"`
	Priority     int             `json:"priority"`
	Methods      []string        `json:"methods"`
	PathPattern  string          `json:"pathPattern"`
	PathPresence string          `json:"pathPresence"`
	HeaderChecks []RuleCheck     `json:"headerChecks"`
	QueryChecks  []RuleCheck     `json:"queryChecks"`
	BodyChecks   []RuleBodyCheck `json:"bodyChecks"`
	RegexFlags   string          `json:"regexFlags"`
	Notes        string          `json:"notes"`
	CreatedAt    time.Time       `json:"ruleCreatedAt"`
	UpdatedAt    time.Time       `json:"ruleUpdatedAt"`
}

// RuleInput creates or changes a rule; only given fields are sent.
type RuleInput map[string]any

// Rules lists the rules of an owner (ownerKind is OwnerCredentials,
// OwnerProxies or OwnerTargets).
func (c *Client) Rules(ctx context.Context, clientID, ownerKind, ownerID string) ([]Rule, error) {
	var out struct {
		Rules []Rule `json:"rules"`
	}
	err := c.Do(ctx, http.MethodGet, clientPath(clientID, ownerKind, ownerID, "rules"), nil, &out)
	return out.Rules, err
}

// CreateRule creates a rule on an owner.
func (c *Client) CreateRule(ctx context.Context, clientID, ownerKind, ownerID string, in RuleInput) (Rule, error) {
	var out struct {
		Rule Rule `json:"rule"`
	}
	err := c.Do(ctx, http.MethodPost, clientPath(clientID, ownerKind, ownerID, "rules"), in, &out)
	return out.Rule, err
}

// UpdateRule changes the given fields of a rule.
func (c *Client) UpdateRule(ctx context.Context, clientID, ownerKind, ownerID, ruleID string, in RuleInput) (Rule, error) {
	var out struct {
		Rule Rule `json:"rule"`
	}
	err := c.Do(ctx, http.MethodPut, clientPath(clientID, ownerKind, ownerID, "rules", ruleID), in, &out)
	return out.Rule, err
}

// DeleteRule deletes a rule.
func (c *Client) DeleteRule(ctx context.Context, clientID, ownerKind, ownerID, ruleID string) error {
	return c.Do(ctx, http.MethodDelete, clientPath(clientID, ownerKind, ownerID, "rules", ruleID), nil, nil)
}

// EvaluateInput describes a would-be request. Body is the JSON body (any
// value) or, as a string, the raw body text.
type EvaluateInput struct {
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	Headers map[string][]string `json:"headers,omitempty"`
	Query   map[string][]string `json:"query,omitempty"`
	Body    any                 `json:"body,omitempty"`
}

// ScopeVerdict is one scope's decision.
type ScopeVerdict struct {
	Scope         string `json:"scope"`
	Decision      string `json:"decision"`
	RuleID        string `json:"ruleId,omitempty"`
	Default       bool   `json:"default"`
	DefaultEffect string `json:"defaultEffect"`
}

// Evaluation explains how a proxy's rules decide a request.
type Evaluation struct {
	Decision string         `json:"decision"`
	Scopes   []ScopeVerdict `json:"scopes"`
}

// EvaluateRules explains a would-be request to a proxy.
func (c *Client) EvaluateRules(ctx context.Context, clientID, proxyID string, in EvaluateInput) (Evaluation, error) {
	var out struct {
		Evaluation Evaluation `json:"evaluation"`
	}
	err := c.Do(ctx, http.MethodPost, clientPath(clientID, "proxies", proxyID, "rules", "evaluate"), in, &out)
	return out.Evaluation, err
}

// Filter is a response filter.
type Filter struct {
	ID        string    `json:"filterId"`
	Scope     string    `json:"filterScope"`
	OwnerID   string    `json:"filterOwnerId"`
	Action    string    `json:"filterAction"`
	Paths     []string  `json:"filterPaths"`
	Notes     string    `json:"filterNotes"`
	CreatedAt time.Time `json:"filterCreatedAt"`
	UpdatedAt time.Time `json:"filterUpdatedAt"`
}

// FilterInput creates or changes a filter; only given fields are sent.
type FilterInput map[string]any

// Filters lists the filters of an owner.
func (c *Client) Filters(ctx context.Context, clientID, ownerKind, ownerID string) ([]Filter, error) {
	var out struct {
		Filters []Filter `json:"filters"`
	}
	err := c.Do(ctx, http.MethodGet, clientPath(clientID, ownerKind, ownerID, "filters"), nil, &out)
	return out.Filters, err
}

// CreateFilter creates a filter on an owner.
func (c *Client) CreateFilter(ctx context.Context, clientID, ownerKind, ownerID string, in FilterInput) (Filter, error) {
	var out struct {
		Filter Filter `json:"filter"`
	}
	err := c.Do(ctx, http.MethodPost, clientPath(clientID, ownerKind, ownerID, "filters"), in, &out)
	return out.Filter, err
}

// UpdateFilter changes the given fields of a filter.
func (c *Client) UpdateFilter(ctx context.Context, clientID, ownerKind, ownerID, filterID string, in FilterInput) (Filter, error) {
	var out struct {
		Filter Filter `json:"filter"`
	}
	err := c.Do(ctx, http.MethodPut, clientPath(clientID, ownerKind, ownerID, "filters", filterID), in, &out)
	return out.Filter, err
}

// DeleteFilter deletes a filter.
func (c *Client) DeleteFilter(ctx context.Context, clientID, ownerKind, ownerID, filterID string) error {
	return c.Do(ctx, http.MethodDelete, clientPath(clientID, ownerKind, ownerID, "filters", filterID), nil, nil)
}

// MeterPredicate decides whether a conditional meter counts a request.
type MeterPredicate struct {
	Location     string `json:"location"`
	Path         string `json:"path,omitempty"`
	Name         string `json:"name,omitempty"`
	ValuePattern string `json:"valuePattern,omitempty"`
	Effect       string `json:"effect,omitempty"`
}

// MeterLimit caps a meter in a window.
type MeterLimit struct {
	Window string  `json:"window"`
	Limit  float64 `json:"limit"`
}

// MeterExtraction says where a response_value meter finds its number.
type MeterExtraction struct {
	Location string `json:"location"`
	Path     string `json:"path,omitempty"`
	Name     string `json:"name,omitempty"`
}

// Meter is a per-proxy usage counter.
type Meter struct {
	ID         string           `json:"meterId"`
	ProxyID    string           `json:"meterProxyId"`
	Name       string           `json:"meterName"`
	Type       string           `json:"meterType"`
	Active     bool             `json:"meterActive"`
	Mode       string           `json:"meterMode"`
	Predicates []MeterPredicate `json:"predicates"`
	Limits     []MeterLimit     `json:"limits"`
	Extraction *MeterExtraction `json:"extraction"`
	CreatedAt  time.Time        `json:"meterCreatedAt"`
	UpdatedAt  time.Time        `json:"meterUpdatedAt"`
}

// MeterInput creates or changes a meter; only given fields are sent.
type MeterInput map[string]any

// Meters lists a proxy's meters.
func (c *Client) Meters(ctx context.Context, clientID, proxyID string) ([]Meter, error) {
	var out struct {
		Meters []Meter `json:"meters"`
	}
	err := c.Do(ctx, http.MethodGet, clientPath(clientID, "proxies", proxyID, "meters"), nil, &out)
	return out.Meters, err
}

// CreateMeter creates a meter on a proxy.
func (c *Client) CreateMeter(ctx context.Context, clientID, proxyID string, in MeterInput) (Meter, error) {
	var out struct {
		Meter Meter `json:"meter"`
	}
	err := c.Do(ctx, http.MethodPost, clientPath(clientID, "proxies", proxyID, "meters"), in, &out)
	return out.Meter, err
}

// UpdateMeter changes the given fields of a meter.
func (c *Client) UpdateMeter(ctx context.Context, clientID, proxyID, meterID string, in MeterInput) (Meter, error) {
	var out struct {
		Meter Meter `json:"meter"`
	}
	err := c.Do(ctx, http.MethodPut, clientPath(clientID, "proxies", proxyID, "meters", meterID), in, &out)
	return out.Meter, err
}

// DeleteMeter deletes a meter.
func (c *Client) DeleteMeter(ctx context.Context, clientID, proxyID, meterID string) error {
	return c.Do(ctx, http.MethodDelete, clientPath(clientID, "proxies", proxyID, "meters", meterID), nil, nil)
}

// MeterUsage is a meter's usage in the current window of one kind.
type MeterUsage struct {
	Window   string    `json:"window"`
	Used     float64   `json:"used"`
	Limit    *float64  `json:"limit"`
	ResetsAt time.Time `json:"resetsAt"`
}

// MeterUsage reads a meter's usage in the current minute, hour, day and month.
func (c *Client) MeterUsage(ctx context.Context, clientID, proxyID, meterID string) ([]MeterUsage, error) {
	var out struct {
		Usage []MeterUsage `json:"usage"`
	}
	err := c.Do(ctx, http.MethodGet, clientPath(clientID, "proxies", proxyID, "meters", meterID, "usage"), nil, &out)
	return out.Usage, err
}

// ConfigureClient changes a client's configuration. in is the object under
// "configuration", e.g. {"limits": {"requestsPerMinute": 60}}; only given
// fields change.
func (c *Client) ConfigureClient(ctx context.Context, clientID string, in map[string]any) (Organisation, error) {
	var out struct {
		Client Organisation `json:"client"`
	}
	err := c.Do(ctx, http.MethodPut, clientPath(clientID, "configuration"), map[string]any{"configuration": in}, &out)
	return out.Client, err
}
