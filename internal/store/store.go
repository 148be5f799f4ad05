package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors every adapter returns (wrapped or bare); callers branch on
// them with errors.Is.
var (
	// ErrNotFound means the row does not exist (or belongs to another client).
	ErrNotFound = errors.New("not found")
	// ErrConflict means a uniqueness or foreign-key constraint refused the change.
	ErrConflict = errors.New("conflict")
	// ErrUnavailable means the database could not do the work now: it is
	// unreachable, the connection was lost, it is failing over or shutting
	// down, or the operation timed out. The same call may succeed later.
	ErrUnavailable = errors.New("database unavailable")
)

// InUseError is returned when a row cannot be deleted because proxies still
// reference it. It matches ErrConflict with errors.Is.
type InUseError struct {
	// Kind is the kind of row that is still referenced ("credential", "target").
	Kind string
	// ProxyNames names the proxies that reference it, sorted.
	ProxyNames []string
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("%s is used by proxies: %s", e.Kind, strings.Join(e.ProxyNames, ", "))
}

// Is makes errors.Is(err, ErrConflict) true for an InUseError.
func (e *InUseError) Is(target error) bool { return target == ErrConflict }

// Client is a tenant (organisation) that owns credentials, targets and proxies.
type Client struct {
	ID        string
	Name      string
	Config    ClientConfig
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ClientConfig holds a client's defaults for new proxies and its allowed regions.
type ClientConfig struct {
	// RequestsPerMinute is the default proxyMaxRequestsPerMinute for new proxies (0 = unlimited).
	RequestsPerMinute int64 `json:"requestsPerMinute,omitempty"`
	// RequestsPerDay is the default proxyMaxRequestsPerDay for new proxies (0 = unlimited).
	RequestsPerDay int64 `json:"requestsPerDay,omitempty"`
	// AllowedRegions limits the regions resources may be created in (empty = all).
	AllowedRegions []string `json:"allowedRegions,omitempty"`
}

// User is a person who logs into the dashboard and owns user tokens.
type User struct {
	ID   string
	Name string
	// PasswordHash is an argon2id PHC string; empty means password login is disabled.
	PasswordHash string
	// InstanceAdmin users may create users and clients.
	InstanceAdmin     bool
	PasswordChangedAt time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Membership links a user to a client with roles.
type Membership struct {
	ClientID  string
	UserID    string
	Roles     []string
	CreatedAt time.Time
}

// Token is a user API token. Only its keyed hash is stored.
type Token struct {
	ID     string
	UserID string
	Name   string
	// Hash is the keyed hash (HMAC-SHA-256) of the full token, the lookup key.
	Hash []byte
	// Hint is a short, non-secret suffix shown in lists ("…a1b2").
	Hint       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	ExpiresAt  *time.Time
}

// Credential side values for Credential.Type.
const (
	CredentialProxy  = "proxy"
	CredentialTarget = "target"
)

// Credential is what a caller presents (proxy side) or what keyway presents
// upstream (target side). Secrets are never stored in the clear.
type Credential struct {
	ID       string
	ClientID string
	Name     string
	// Type is CredentialProxy or CredentialTarget.
	Type string
	// AuthType is the credentialAuthType (apiKey, bearer, jwt, basicAuth, oauth2, ...).
	AuthType string
	Region   string
	// Config holds the non-secret settings as a JSON object.
	Config []byte
	// SecretSealed is the sealed JSON object of secret settings (target side,
	// or proxy types whose verification needs the secret, like jwtVerify).
	SecretSealed []byte
	// SecretHash is the keyed hash of the proxy-side secret.
	SecretHash []byte
	// PrevSecretHash keeps working until PrevSecretUntil after a rotation.
	PrevSecretHash    []byte
	PrevSecretUntil   *time.Time
	DefaultRuleEffect string
	ExpiresAt         *time.Time
	Temporary         bool
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// TargetTLS customises TLS towards a target.
type TargetTLS struct {
	CAPEM      string `json:"caPEM,omitempty"`
	ServerName string `json:"serverName,omitempty"`
}

// Target is an upstream API.
type Target struct {
	ID                 string
	ClientID           string
	Name               string
	BaseURL            string
	TestPath           string
	Region             string
	DefaultRuleEffect  string
	TimeoutSeconds     int
	IdleTimeoutSeconds int
	Headers            map[string]string
	// MaxResponseBytes limits the response body; 0 means no limit.
	MaxResponseBytes int64
	TLS              TargetTLS
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Proxy joins a proxy credential, a target and a target credential.
type Proxy struct {
	ID                   string
	ClientID             string
	Name                 string
	Active               bool
	Region               string
	ProxyCredentialID    string
	TargetID             string
	TargetCredentialID   string
	DefaultRuleEffect    string
	MaxRequestsPerMinute int64
	MaxRequestsPerDay    int64
	// Async delivery overrides; nil means the server default.
	AsyncMaxRetries            *int
	AsyncRetryWindowSeconds    *int
	AsyncAttemptTimeoutSeconds *int
	AsyncCallbackOrigins       []string
	CorsOrigins                []string
	// WebhookSecretSealed is the sealed whsec_… secret that signs callbacks.
	WebhookSecretSealed []byte
	// LogBodies captures request and response bodies (size-limited) in the
	// request log.
	LogBodies bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ProxyListParams filters and orders ProxyList.
type ProxyListParams struct {
	ClientID string
	// Region filters by region when not empty.
	Region string
	// Active filters by state when not nil.
	Active *bool
	// Sort is "name" or "createdAt" (default "createdAt").
	Sort string
	// Desc reverses the order.
	Desc bool
}

// CredentialListParams filters CredentialList.
type CredentialListParams struct {
	ClientID         string
	IncludeTemporary bool
}

// Bootstrap is what the first start creates in one transaction.
type Bootstrap struct {
	Client     Client
	User       User
	Membership Membership
	Token      Token
}

// Store is the storage port. Adapters (sqlite, postgres) implement it and
// pass the conformance suite in storetest. Every method that changes
// configuration the data plane reads bumps the change version in the same
// transaction.
type Store interface {
	// Close releases the database.
	Close() error
	// Ping checks the database answers.
	Ping(ctx context.Context) error
	// Dialect names the adapter ("sqlite", "postgres").
	Dialect() string

	// MetaGet reads an instance-wide setting; ErrNotFound when unset.
	MetaGet(ctx context.Context, key string) (string, error)
	// MetaSetIfAbsent stores a setting unless it exists and returns the stored value.
	MetaSetIfAbsent(ctx context.Context, key, value string) (string, error)
	// ChangeVersion returns a number that grows with every configuration change.
	ChangeVersion(ctx context.Context) (int64, error)

	// BootstrapIfEmpty creates the first client, user, membership and token
	// when no user exists yet; it reports whether it did.
	BootstrapIfEmpty(ctx context.Context, b Bootstrap) (bool, error)

	ClientCreate(ctx context.Context, c Client) error
	ClientGet(ctx context.Context, id string) (Client, error)
	ClientList(ctx context.Context) ([]Client, error)
	ClientListForUser(ctx context.Context, userID string) ([]Client, error)
	ClientUpdate(ctx context.Context, c Client) error

	UserCreate(ctx context.Context, u User) error
	UserGet(ctx context.Context, id string) (User, error)
	UserGetByName(ctx context.Context, name string) (User, error)
	UserList(ctx context.Context) ([]User, error)
	UserUpdate(ctx context.Context, u User) error

	MembershipPut(ctx context.Context, m Membership) error
	MembershipGet(ctx context.Context, clientID, userID string) (Membership, error)
	MembershipList(ctx context.Context, clientID string) ([]Membership, error)
	MembershipDelete(ctx context.Context, clientID, userID string) error

	TokenCreate(ctx context.Context, t Token) error
	// TokenGetByHash finds a token by its keyed hash (the login path).
	TokenGetByHash(ctx context.Context, hash []byte) (Token, error)
	TokenList(ctx context.Context, userID string) ([]Token, error)
	TokenDelete(ctx context.Context, userID, id string) error
	TokenTouch(ctx context.Context, id string, at time.Time) error

	CredentialCreate(ctx context.Context, c Credential) error
	CredentialGet(ctx context.Context, clientID, id string) (Credential, error)
	CredentialList(ctx context.Context, p CredentialListParams) ([]Credential, error)
	CredentialUpdate(ctx context.Context, c Credential) error
	// CredentialDelete refuses with *InUseError while a proxy uses the credential.
	CredentialDelete(ctx context.Context, clientID, id string) error

	TargetCreate(ctx context.Context, t Target) error
	TargetGet(ctx context.Context, clientID, id string) (Target, error)
	TargetList(ctx context.Context, clientID string) ([]Target, error)
	TargetUpdate(ctx context.Context, t Target) error
	// TargetDelete refuses with *InUseError while a proxy uses the target.
	TargetDelete(ctx context.Context, clientID, id string) error

	ProxyCreate(ctx context.Context, p Proxy) error
	ProxyGet(ctx context.Context, clientID, id string) (Proxy, error)
	ProxyList(ctx context.Context, p ProxyListParams) ([]Proxy, error)
	ProxyUpdate(ctx context.Context, p Proxy) error
	ProxyDelete(ctx context.Context, clientID, id string) error

	CredentialFlowStore

	// SnapshotLoad reads everything the data plane needs, consistently, with
	// the change version it reflects.
	SnapshotLoad(ctx context.Context) (SnapshotData, error)

	PolicyStore
	Teams
	Monitoring
	Async
	AsyncBrowse
}

// SnapshotData is the configuration the data plane serves from.
type SnapshotData struct {
	Version     int64
	Proxies     []Proxy
	Credentials []Credential
	Targets     []Target
	// Rules, Filters and Meters of every owner, in their list order.
	Rules   []Rule
	Filters []Filter
	Meters  []Meter
}

// Migration is one numbered schema migration and whether it is applied.
type Migration struct {
	Version   int
	Name      string
	Applied   bool
	AppliedAt *time.Time
}

// Migrator is implemented by every adapter; `keyway migrate` and `serve` use it.
type Migrator interface {
	// MigrateUp applies every pending migration, under a lock so concurrent
	// nodes do not race, and returns the versions it applied.
	MigrateUp(ctx context.Context) ([]int, error)
	// MigrateDown reverts the given number of most recent migrations.
	MigrateDown(ctx context.Context, steps int) ([]int, error)
	// MigrationStatus lists all known migrations in order.
	MigrationStatus(ctx context.Context) ([]Migration, error)
}
