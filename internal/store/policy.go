package store

import (
	"context"
	"time"
)

// Owner kinds: rules and filters attach to a credential (its side decides
// the scope), a proxy or a target.
const (
	OwnerCredential = "credential"
	OwnerProxy      = "proxy"
	OwnerTarget     = "target"
)

// Owner is what a rule or filter is attached to.
type Owner struct {
	// Kind is OwnerCredential, OwnerProxy or OwnerTarget.
	Kind string
	ID   string
}

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

// Rule is an authorization rule (SPEC §4).
type Rule struct {
	ID           string
	ClientID     string
	Owner        Owner
	Effect       string
	Priority     int
	Methods      []string
	PathPattern  string
	PathPresence string
	HeaderChecks []RuleCheck
	QueryChecks  []RuleCheck
	BodyChecks   []RuleBodyCheck
	RegexFlags   string
	Notes        string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Filter is a response filter (SPEC §5).
type Filter struct {
	ID       string
	ClientID string
	Owner    Owner
	// Action is "retain" or "destroy".
	Action    string
	Paths     []string
	Notes     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// MeterPredicate decides, on the request, whether a conditional meter counts it.
type MeterPredicate struct {
	// Location is body, header, query, path or method.
	Location     string `json:"location"`
	Path         string `json:"path,omitempty"`
	Name         string `json:"name,omitempty"`
	ValuePattern string `json:"valuePattern,omitempty"`
	// Effect is include or exclude.
	Effect string `json:"effect"`
}

// MeterLimit caps a meter's usage in a window.
type MeterLimit struct {
	// Window is minute, hour, day or month.
	Window string  `json:"window"`
	Limit  float64 `json:"limit"`
}

// MeterExtraction says where a response_value meter finds its number.
type MeterExtraction struct {
	// Location is body or header.
	Location string `json:"location"`
	Path     string `json:"path,omitempty"`
	Name     string `json:"name,omitempty"`
}

// Meter is a per-proxy usage counter (SPEC §5).
type Meter struct {
	ID       string
	ClientID string
	ProxyID  string
	Name     string
	// Type is request_count or response_value.
	Type   string
	Active bool
	// Mode is all or conditional.
	Mode       string
	Predicates []MeterPredicate
	Limits     []MeterLimit
	// Extraction is set for response_value meters.
	Extraction *MeterExtraction
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// RuleListParams selects the rules of one owner.
type RuleListParams struct {
	ClientID string
	Owner    Owner
}

// FilterListParams selects the filters of one owner.
type FilterListParams struct {
	ClientID string
	Owner    Owner
}

// MeterListParams selects the meters of one proxy.
type MeterListParams struct {
	ClientID string
	ProxyID  string
}

// PolicyStore stores rules, filters, meters and usage counters. Rules,
// filters and meters are configuration (changes bump the change version
// and SnapshotLoad returns them); deleting their owner deletes them.
// Creating one for an owner that does not exist in the client is
// ErrConflict.
type PolicyStore interface {
	RuleCreate(ctx context.Context, r Rule) error
	RuleGet(ctx context.Context, clientID, id string) (Rule, error)
	// RuleList orders by priority (highest first), then CreatedAt and id.
	RuleList(ctx context.Context, p RuleListParams) ([]Rule, error)
	// RuleUpdate overwrites every field except id, client, owner and CreatedAt.
	RuleUpdate(ctx context.Context, r Rule) error
	RuleDelete(ctx context.Context, clientID, id string) error

	FilterCreate(ctx context.Context, f Filter) error
	FilterGet(ctx context.Context, clientID, id string) (Filter, error)
	// FilterList orders by CreatedAt, then id.
	FilterList(ctx context.Context, p FilterListParams) ([]Filter, error)
	// FilterUpdate overwrites every field except id, client, owner and CreatedAt.
	FilterUpdate(ctx context.Context, f Filter) error
	FilterDelete(ctx context.Context, clientID, id string) error

	MeterCreate(ctx context.Context, m Meter) error
	MeterGet(ctx context.Context, clientID, id string) (Meter, error)
	// MeterList orders by CreatedAt, then id.
	MeterList(ctx context.Context, p MeterListParams) ([]Meter, error)
	// MeterUpdate overwrites every field except id, client, proxy and CreatedAt.
	MeterUpdate(ctx context.Context, m Meter) error
	MeterDelete(ctx context.Context, clientID, id string) error

	CounterStore
}
