package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/keyway-dev/keyway/internal/egress"
)

// Defaults, exported so that docs, tests and the CLI can name them.
const (
	DefaultDataDir          = "./keyway-data"
	DefaultProxyAddr        = ":8080"
	DefaultAdminAddr        = ":8081"
	DefaultPublicURL        = "http://localhost:8080"
	DefaultAdminPublicURL   = "http://localhost:8081"
	DefaultDatabaseFile     = "keyway.db"
	DefaultRequestBodyBytes = 10 << 20
	DefaultMaxHeaderBytes   = 64 << 10
	DefaultHeaderPrefix     = "requestrocket-"
	DefaultLogLevel         = "info"
	DefaultLogFormat        = "auto"
	DefaultShutdownTimeout  = 30 * time.Second
	DefaultDBMaxConns       = 10
	DefaultStatementTimeout = 30 * time.Second
	DefaultRegionID         = "local"
	DefaultRegionName       = "Local"

	// DefaultBodyInspectionBytes bounds the request body keyway reads for
	// body rules and meter predicates.
	DefaultBodyInspectionBytes = 1 << 20

	// MasterKeySize is the decoded length of KEYWAY_MASTER_KEY in bytes.
	MasterKeySize = 32
)

// Database kinds returned by [Config.DatabaseKind].
const (
	DatabaseSQLite   = "sqlite"
	DatabasePostgres = "postgres"
)

// Config is keyway's whole configuration. Build it with [Load] (or [Default]
// for tests); the YAML tags are the configuration file's keys.
type Config struct {
	// DataDir holds the SQLite database and the generated master key file.
	DataDir string `yaml:"dataDir"`
	// ProxyAddr is the data plane's listen address (host:port).
	ProxyAddr string `yaml:"proxyAddr"`
	// AdminAddr is the Core API and dashboard listen address (host:port).
	AdminAddr string `yaml:"adminAddr"`
	// Database selects and tunes the database. In the YAML file it may
	// also be written as a plain string: the URL or path.
	Database Database `yaml:"database"`
	// PublicURL is the data plane's base URL as callers reach it.
	PublicURL string `yaml:"publicURL"`
	// AdminPublicURL is the admin listener's base URL as browsers and OAuth2
	// providers reach it.
	AdminPublicURL string `yaml:"adminPublicURL"`
	// MasterKey is the base64 master key; environment only.
	MasterKey Secret `yaml:"masterKey"`
	// MasterKeyFile is the path of a file holding the master key.
	MasterKeyFile string `yaml:"masterKeyFile"`
	// BootstrapToken is the first admin user's token (u-…); environment only.
	BootstrapToken Secret `yaml:"bootstrapToken"`
	// BootstrapPassword is the first admin user's password; environment only.
	BootstrapPassword Secret `yaml:"bootstrapPassword"`
	// Egress controls which addresses outbound calls may reach.
	Egress Egress `yaml:"egress"`
	// TLS holds certificate and key files per listener; empty means plain HTTP.
	TLS TLS `yaml:"tls"`
	// TrustedProxies are CIDRs whose X-Forwarded-For header is believed.
	TrustedProxies []string `yaml:"trustedProxies"`
	// Regions is the region catalogue; Load fills in the default one.
	Regions []Region `yaml:"regions"`
	// ServeRegions limits this node's data plane to these region ids; empty
	// means all.
	ServeRegions []string `yaml:"serveRegions"`
	// Limits bounds request sizes.
	Limits Limits `yaml:"limits"`
	// HeaderPrefix prefixes keyway's diagnostic response headers.
	HeaderPrefix string `yaml:"headerPrefix"`
	// Log configures the structured logger.
	Log Log `yaml:"log"`
	// ShutdownTimeout bounds the graceful drain of in-flight work.
	ShutdownTimeout time.Duration `yaml:"shutdownTimeout"`
	// DebugAddr, when set, serves Go's pprof profiles on this address (keep
	// it on loopback: profiles reveal internals); empty means off.
	DebugAddr string `yaml:"debugAddr"`
	// SMTP sends invite emails; off unless smtp.host is set.
	SMTP SMTP `yaml:"smtp"`
	// RequestLog configures the request log (docs/monitoring.md).
	RequestLog RequestLog `yaml:"requestLog"`
	// Metrics configures the Prometheus /metrics endpoint.
	Metrics Metrics `yaml:"metrics"`
	// Tracing configures OpenTelemetry tracing.
	Tracing Tracing `yaml:"tracing"`
	// Notifications configures notification checks.
	Notifications Notifications `yaml:"notifications"`
	// Async tunes the async queue.
	Async Async `yaml:"async"`

	// origin maps a setting key to the environment variable or flag that
	// last set it, so validation messages name what the operator typed.
	origin map[string]string
}

// Database is the database section.
type Database struct {
	// URL is a postgres:// or postgresql:// URL, or a SQLite file path.
	// Empty means <DataDir>/keyway.db; Load fills it in.
	URL string `yaml:"url"`
	// MaxConns bounds each node's PostgreSQL connection pool (the change
	// listener uses one connection more). Ignored with SQLite.
	MaxConns int `yaml:"maxConns"`
	// StatementTimeout bounds every PostgreSQL statement, server-side
	// (statement_timeout); 0 disables it. Ignored with SQLite.
	StatementTimeout time.Duration `yaml:"statementTimeout"`
}

// UnmarshalYAML accepts the section as a mapping or, for the common case,
// as a plain string (database: postgres://…).
func (d *Database) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&d.URL)
	}
	type plain Database // without this method, so Decode does not recurse
	return n.Decode((*plain)(d))
}

// Egress is the egress section.
type Egress struct {
	// AllowPrivateNetworks lets loopback, private, ULA and CGNAT targets through.
	AllowPrivateNetworks bool `yaml:"allowPrivateNetworks"`
	// AllowCIDRs lets these prefixes (or single addresses) through.
	AllowCIDRs []string `yaml:"allowCIDRs"`
}

// TLS is the tls section.
type TLS struct {
	Proxy CertPair `yaml:"proxy"`
	Admin CertPair `yaml:"admin"`
}

// CertPair names a PEM certificate chain file and its private key file.
type CertPair struct {
	CertFile string `yaml:"certFile"`
	KeyFile  string `yaml:"keyFile"`
}

// Enabled reports whether the listener should serve TLS.
func (p CertPair) Enabled() bool { return p.CertFile != "" || p.KeyFile != "" }

// Region is one entry of the region catalogue.
type Region struct {
	ID        string  `yaml:"id"`
	Name      string  `yaml:"name"`
	Latitude  float64 `yaml:"latitude"`
	Longitude float64 `yaml:"longitude"`
	// PublicURL is the data plane base URL for proxies in this region;
	// empty means the top-level publicURL.
	PublicURL string `yaml:"publicURL"`
}

// Limits is the limits section.
type Limits struct {
	// RequestBodyBytes is the largest request body the data plane accepts.
	RequestBodyBytes int64 `yaml:"requestBodyBytes"`
	// MaxHeaderBytes bounds request headers on both listeners.
	MaxHeaderBytes int `yaml:"maxHeaderBytes"`
	// BodyInspectionBytes bounds the request body read for body rules and
	// meter predicates; a larger body answers 413 when one applies.
	BodyInspectionBytes int64 `yaml:"bodyInspectionBytes"`
}

// Log is the log section.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is json, text, or auto (text on a terminal, else json).
	Format string `yaml:"format"`
	// AccessLog logs one line per data-plane request.
	AccessLog bool `yaml:"accessLog"`
}

// RequestLog is the requestLog section.
type RequestLog struct {
	// Enabled stores one entry per data-plane request; telemetry and
	// metrics are kept either way.
	Enabled bool `yaml:"enabled"`
	// RetentionDays is how long entries are kept.
	RetentionDays int `yaml:"retentionDays"`
	// QueueSize bounds entries waiting to be written; beyond it they are
	// dropped and counted.
	QueueSize int `yaml:"queueSize"`
	// BatchSize bounds the entries of one group commit.
	BatchSize int `yaml:"batchSize"`
	// SensitiveHeaders and SensitiveParams are redacted by name, besides
	// the built-in lists.
	SensitiveHeaders []string `yaml:"sensitiveHeaders"`
	SensitiveParams  []string `yaml:"sensitiveParams"`
	// MaxBodyBytes is how much of each body a proxy with proxyLogBodies keeps.
	MaxBodyBytes int `yaml:"maxBodyBytes"`
}

// Metrics is the metrics section.
type Metrics struct {
	// MaxProxyLabels is how many proxies get their own series.
	MaxProxyLabels int `yaml:"maxProxyLabels"`
}

// Tracing is the tracing section.
type Tracing struct {
	// OTLPEndpoint is the OTLP/HTTP traces URL; empty disables tracing.
	OTLPEndpoint string `yaml:"otlpEndpoint"`
	// SampleRatio is the share of new traces recorded.
	SampleRatio float64 `yaml:"sampleRatio"`
}

// Notifications is the notifications section.
type Notifications struct {
	// CredentialExpiryWarning is how long before expiry a credential is reported.
	CredentialExpiryWarning time.Duration `yaml:"credentialExpiryWarning"`
}

// Monitoring defaults.
const (
	DefaultRequestLogRetentionDays = 90
	DefaultRequestLogQueueSize     = 16384
	DefaultRequestLogBatchSize     = 512
	DefaultRequestLogMaxBodyBytes  = 4096
	DefaultMetricsMaxProxyLabels   = 200
	DefaultTracingSampleRatio      = 1.0
	DefaultCredentialExpiryWarning = 7 * 24 * time.Hour
)

// Default returns the built-in defaults. Derived values (the database path,
// the default region) are filled in by Load once every layer is applied.
func Default() *Config {
	return &Config{
		DataDir:        DefaultDataDir,
		ProxyAddr:      DefaultProxyAddr,
		AdminAddr:      DefaultAdminAddr,
		PublicURL:      DefaultPublicURL,
		AdminPublicURL: DefaultAdminPublicURL,
		Limits: Limits{RequestBodyBytes: DefaultRequestBodyBytes, MaxHeaderBytes: DefaultMaxHeaderBytes,
			BodyInspectionBytes: DefaultBodyInspectionBytes},
		HeaderPrefix:    DefaultHeaderPrefix,
		Log:             Log{Level: DefaultLogLevel, Format: DefaultLogFormat},
		Async:           defaultAsync(),
		ShutdownTimeout: DefaultShutdownTimeout,
		Database:        Database{MaxConns: DefaultDBMaxConns, StatementTimeout: DefaultStatementTimeout},
		SMTP:            SMTP{Port: DefaultSMTPPort},
		RequestLog: RequestLog{Enabled: true, RetentionDays: DefaultRequestLogRetentionDays, QueueSize: DefaultRequestLogQueueSize,
			BatchSize: DefaultRequestLogBatchSize, MaxBodyBytes: DefaultRequestLogMaxBodyBytes},
		Metrics:       Metrics{MaxProxyLabels: DefaultMetricsMaxProxyLabels},
		Tracing:       Tracing{SampleRatio: DefaultTracingSampleRatio},
		Notifications: Notifications{CredentialExpiryWarning: DefaultCredentialExpiryWarning},
	}
}

// fillDerived computes the defaults that depend on other settings. It is
// idempotent.
func (c *Config) fillDerived() {
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	c.AdminPublicURL = strings.TrimRight(c.AdminPublicURL, "/")
	if c.Database.URL == "" {
		c.Database.URL = filepath.Join(c.DataDir, DefaultDatabaseFile)
	}
	if len(c.Regions) == 0 {
		c.Regions = []Region{{ID: DefaultRegionID, Name: DefaultRegionName}}
	}
	for i := range c.Regions {
		r := &c.Regions[i]
		r.PublicURL = strings.TrimRight(r.PublicURL, "/")
		if r.PublicURL == "" {
			r.PublicURL = c.PublicURL
		}
		if r.Name == "" {
			r.Name = r.ID
		}
	}
	c.Log.Level = strings.ToLower(c.Log.Level)
	c.Log.Format = strings.ToLower(c.Log.Format)
}

// DatabaseKind is DatabasePostgres for a postgres:// or postgresql:// URL
// and DatabaseSQLite for anything else.
func (c *Config) DatabaseKind() string {
	if isPostgresURL(c.Database.URL) {
		return DatabasePostgres
	}
	return DatabaseSQLite
}

func isPostgresURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// DatabasePath is the SQLite file path (the default one when Database is
// empty), or "" when the database is PostgreSQL.
func (c *Config) DatabasePath() string {
	switch {
	case c.DatabaseKind() == DatabasePostgres:
		return ""
	case c.Database.URL == "":
		return filepath.Join(c.DataDir, DefaultDatabaseFile)
	}
	return c.Database.URL
}

// EgressPolicy converts the egress section into the policy the egress
// package enforces. Entries that do not parse are skipped; Validate reports
// them.
func (c *Config) EgressPolicy() egress.Policy {
	return egress.Policy{
		AllowPrivateNetworks: c.Egress.AllowPrivateNetworks,
		AllowCIDRs:           parsePrefixes(c.Egress.AllowCIDRs),
	}
}

// TrustedProxyPrefixes parses TrustedProxies, skipping entries Validate
// reports.
func (c *Config) TrustedProxyPrefixes() []netip.Prefix { return parsePrefixes(c.TrustedProxies) }

func parsePrefixes(list []string) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		if p, err := parsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// parsePrefix accepts a CIDR or a single address (as a /32 or /128) and
// refuses host bits set below the prefix length, which are usually a typo.
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, errors.New("not a CIDR or IP address")
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, errors.New("not a CIDR or IP address")
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("has host bits set (did you mean %s?)", p.Masked())
	}
	return p, nil
}

// SlogLevel is Log.Level as a slog.Level (info when invalid).
func (c *Config) SlogLevel() slog.Level {
	switch strings.ToLower(c.Log.Level) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// MasterKeyBytes decodes MasterKey; it returns nil, nil when none is set.
func (c *Config) MasterKeyBytes() ([]byte, error) {
	if c.MasterKey == "" {
		return nil, nil
	}
	return DecodeMasterKey(string(c.MasterKey))
}

// DecodeMasterKey decodes a master key as written in KEYWAY_MASTER_KEY or a
// key file: base64 (standard or URL alphabet, padded or not, surrounding
// whitespace ignored) of exactly MasterKeySize bytes. The error never
// contains the input.
func DecodeMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) != MasterKeySize {
			return nil, fmt.Errorf("must decode to %d bytes, got %d", MasterKeySize, len(b))
		}
		return b, nil
	}
	return nil, errors.New("is not valid base64")
}

// RegionByID returns the region with that id.
func (c *Config) RegionByID(id string) (Region, bool) {
	for _, r := range c.Regions {
		if r.ID == id {
			return r, true
		}
	}
	return Region{}, false
}

// Serves reports whether this node's data plane serves the region.
func (c *Config) Serves(regionID string) bool {
	if len(c.ServeRegions) == 0 {
		return true
	}
	for _, id := range c.ServeRegions {
		if id == regionID {
			return true
		}
	}
	return false
}
