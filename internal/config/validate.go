package config

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ValidationError lists every problem found in a configuration. Each
// problem names the setting (and the environment variable or flag that set
// it) and never contains a secret.
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid configuration: " + e.Problems[0]
	}
	return fmt.Sprintf("invalid configuration (%d problems): %s", len(e.Problems), strings.Join(e.Problems, "; "))
}

// Bootstrap credential rules (SPEC §2).
const (
	BootstrapTokenPrefix    = "u-"
	MinBootstrapTokenLen    = 24
	MinBootstrapPasswordLen = 8
	maxShutdownTimeout      = time.Hour
	maxDBConns              = 1000
)

var regionIDPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// Validate checks the configuration as Load would leave it (derived defaults
// are computed on a copy; c is not modified) and returns a
// *ValidationError listing every problem, or nil.
func (c *Config) Validate() error {
	cp := *c
	cp.Regions = slices.Clone(c.Regions)
	cp.fillDerived()
	if p := cp.problems(); len(p) > 0 {
		return &ValidationError{Problems: p}
	}
	return nil
}

// problems assumes fillDerived has run.
func (c *Config) problems() []string {
	v := &validator{c: c}
	v.check("dataDir", c.DataDir != "", "must not be empty")
	v.addr("proxyAddr", c.ProxyAddr)
	if c.DebugAddr != "" {
		v.addr("debugAddr", c.DebugAddr)
		if host, _, err := net.SplitHostPort(c.DebugAddr); err == nil {
			if ip, perr := netip.ParseAddr(host); host != "localhost" && (perr != nil || !ip.IsLoopback()) {
				v.add("debugAddr", "must be a loopback address such as 127.0.0.1:6060: profiles reveal internals")
			}
		}
	}
	v.addr("adminAddr", c.AdminAddr)
	if c.ProxyAddr == c.AdminAddr && !strings.HasSuffix(c.ProxyAddr, ":0") {
		v.add("adminAddr", "must differ from proxyAddr")
	}
	v.database()
	v.baseURL("publicURL", c.PublicURL)
	v.baseURL("adminPublicURL", c.AdminPublicURL)
	v.secrets()
	v.prefixes("egress.allowCIDRs", c.Egress.AllowCIDRs)
	v.prefixes("trustedProxies", c.TrustedProxies)
	v.certPair("tls.proxy", c.TLS.Proxy)
	v.certPair("tls.admin", c.TLS.Admin)
	v.regions()
	v.check("limits.requestBodyBytes", c.Limits.RequestBodyBytes > 0, "must be positive")
	v.check("limits.maxHeaderBytes", c.Limits.MaxHeaderBytes > 0, "must be positive")
	v.check("limits.bodyInspectionBytes", c.Limits.BodyInspectionBytes > 0, "must be positive")
	v.check("headerPrefix", c.HeaderPrefix != "" && isToken(c.HeaderPrefix), "must be a non-empty HTTP header name prefix (letters, digits, -)")
	v.async()
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "json", "text", "auto")
	v.smtp()
	v.check("shutdownTimeout", c.ShutdownTimeout > 0 && c.ShutdownTimeout <= maxShutdownTimeout,
		fmt.Sprintf("must be a positive duration of at most %s (such as 30s)", maxShutdownTimeout))
	v.monitoring()
	return v.problems
}

type validator struct {
	c        *Config
	problems []string
}

// label names the setting and, when the environment or a flag set it, that
// variable or flag.
func (v *validator) label(key string) string {
	base, _, _ := strings.Cut(key, "[")
	if src, ok := v.c.origin[base]; ok {
		return key + " (" + src + ")"
	}
	if s, ok := settingByKey(base); ok {
		if _, isSecret := s.field(v.c).(*Secret); isSecret {
			return key + " (" + s.env + ")" // secrets only ever come from there
		}
	}
	return key
}

func (v *validator) add(key, msg string) {
	v.problems = append(v.problems, v.label(key)+": "+msg)
}

func (v *validator) check(key string, ok bool, msg string) {
	if !ok {
		v.add(key, msg)
	}
}

func (v *validator) oneOf(key, val string, allowed ...string) {
	if !slices.Contains(allowed, val) {
		v.add(key, fmt.Sprintf("%q is not one of %s", val, strings.Join(allowed, ", ")))
	}
}

func (v *validator) addr(key, s string) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		v.add(key, fmt.Sprintf("%q is not host:port (e.g. :8080 or 127.0.0.1:8080)", s))
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.add(key, fmt.Sprintf("port %q is not a number from 0 to 65535", port))
	}
	if host != "" && !isHostname(host) {
		if _, err := netip.ParseAddr(host); err != nil {
			v.add(key, fmt.Sprintf("host %q is neither an IP address nor a hostname", host))
		}
	}
}

// baseURL checks an absolute http(s) URL without credentials, query or
// fragment. An unparsable URL is not echoed: it may hold a password.
func (v *validator) baseURL(key, s string) {
	u, err := url.Parse(s)
	if err != nil {
		v.add(key, "is not a valid URL")
		return
	}
	shown := u.Redacted()
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		v.add(key, fmt.Sprintf("%q must start with http:// or https://", shown))
	case u.Host == "" || u.Opaque != "":
		v.add(key, fmt.Sprintf("%q has no host", shown))
	case u.User != nil:
		v.add(key, "must not contain a user name or password")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		v.add(key, fmt.Sprintf("%q must not have a query or fragment", shown))
	}
}

func (v *validator) database() {
	db := v.c.Database.URL
	switch {
	case db == "":
		v.add("database.url", "must not be empty")
	case isPostgresURL(db):
		if u, err := url.Parse(db); err != nil || u.Opaque != "" {
			v.add("database.url", "is not a valid PostgreSQL URL (postgres://user:password@host:5432/dbname)")
		}
	case strings.Contains(db, "://"):
		scheme, _, _ := strings.Cut(db, "://")
		if !isToken(scheme) {
			scheme = "?"
		}
		v.add("database.url", fmt.Sprintf("URL scheme %q is not supported; use postgres:// or a SQLite file path", scheme))
	case looksLikeKeyValueDSN(db):
		v.add("database.url", "looks like a PostgreSQL key=value connection string; use a postgres:// URL")
	}
	v.check("database.maxConns", v.c.Database.MaxConns >= 1 && v.c.Database.MaxConns <= maxDBConns,
		fmt.Sprintf("must be a whole number from 1 to %d", maxDBConns))
	v.check("database.statementTimeout", v.c.Database.StatementTimeout >= 0 && v.c.Database.StatementTimeout <= maxShutdownTimeout,
		fmt.Sprintf("must be a duration from 0 (no limit) to %s, such as 30s", maxShutdownTimeout))
}

func looksLikeKeyValueDSN(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "password=") || (strings.Contains(l, "host=") && strings.Contains(l, " "))
}

// secrets checks the master key and bootstrap credentials by shape only;
// messages say what is wrong, never what the value is.
func (v *validator) secrets() {
	c := v.c
	if c.MasterKey != "" {
		if _, err := DecodeMasterKey(string(c.MasterKey)); err != nil {
			v.add("masterKey", fmt.Sprintf("must be base64 of %d random bytes: %v", MasterKeySize, err))
		}
		if c.MasterKeyFile != "" {
			v.add("masterKey", "and masterKeyFile are both set; use one")
		}
	}
	if c.DatabaseKind() == DatabasePostgres && c.MasterKey == "" && c.MasterKeyFile == "" {
		v.add("masterKey", "KEYWAY_MASTER_KEY or masterKeyFile is required with PostgreSQL, so that every node uses the same key")
	}
	if t := string(c.BootstrapToken); t != "" {
		v.check("bootstrapToken", strings.HasPrefix(t, BootstrapTokenPrefix) && len(t) >= MinBootstrapTokenLen && isPrintableASCII(t),
			fmt.Sprintf("must start with %q, be at least %d characters long and contain only printable ASCII without spaces", BootstrapTokenPrefix, MinBootstrapTokenLen))
	}
	if p := string(c.BootstrapPassword); p != "" {
		v.check("bootstrapPassword", utf8.RuneCountInString(p) >= MinBootstrapPasswordLen,
			fmt.Sprintf("must be at least %d characters long", MinBootstrapPasswordLen))
	}
}

func (v *validator) prefixes(key string, list []string) {
	for i, s := range list {
		if _, err := parsePrefix(s); err != nil {
			v.add(fmt.Sprintf("%s[%d]", key, i), fmt.Sprintf("%q %v", s, err))
		}
	}
}

func (v *validator) certPair(key string, p CertPair) {
	switch {
	case p.CertFile != "" && p.KeyFile == "":
		v.add(key+".keyFile", "is required when "+key+".certFile is set")
	case p.KeyFile != "" && p.CertFile == "":
		v.add(key+".certFile", "is required when "+key+".keyFile is set")
	}
}

func (v *validator) regions() {
	seen := map[string]bool{}
	for i, r := range v.c.Regions {
		key := fmt.Sprintf("regions[%d]", i)
		switch {
		case !regionIDPattern.MatchString(r.ID):
			v.add(key+".id", fmt.Sprintf("%q must be 1 to 63 lowercase letters, digits or inner hyphens", r.ID))
		case seen[r.ID]:
			v.add(key+".id", fmt.Sprintf("%q is used by more than one region", r.ID))
		}
		seen[r.ID] = true
		v.check(key+".latitude", !math.IsNaN(r.Latitude) && r.Latitude >= -90 && r.Latitude <= 90, "must be between -90 and 90")
		v.check(key+".longitude", !math.IsNaN(r.Longitude) && r.Longitude >= -180 && r.Longitude <= 180, "must be between -180 and 180")
		if r.PublicURL != v.c.PublicURL { // an inherited URL is checked as publicURL
			v.baseURL(key+".publicURL", r.PublicURL)
		}
	}
	for _, id := range v.c.ServeRegions {
		if !seen[id] {
			v.add("serveRegions", fmt.Sprintf("%q is not a configured region", id))
		}
	}
}

func isToken(s string) bool {
	for _, r := range s {
		if !(r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("!#$%&'*+-.^_`|~", r))) {
			return false
		}
	}
	return true
}

func isPrintableASCII(s string) bool {
	for i := range len(s) {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// isHostname accepts letters, digits, hyphens and dots (as a listen host).
func isHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := range len(label) {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// monitoring checks the requestLog, metrics, tracing and notifications sections.
func (v *validator) monitoring() {
	c := v.c
	v.check("requestLog.retentionDays", c.RequestLog.RetentionDays >= 1 && c.RequestLog.RetentionDays <= 3650, "must be from 1 to 3650 days")
	v.check("requestLog.queueSize", c.RequestLog.QueueSize >= 1 && c.RequestLog.QueueSize <= 1<<22, "must be from 1 to 4194304")
	v.check("requestLog.batchSize", c.RequestLog.BatchSize >= 1 && c.RequestLog.BatchSize <= 10000, "must be from 1 to 10000")
	v.check("requestLog.maxBodyBytes", c.RequestLog.MaxBodyBytes >= 0 && c.RequestLog.MaxBodyBytes <= 1<<20, "must be from 0 to 1048576 (1 MiB)")
	for _, h := range c.RequestLog.SensitiveHeaders {
		v.check("requestLog.sensitiveHeaders", isToken(h), fmt.Sprintf("%q is not a header name", h))
	}
	v.check("metrics.maxProxyLabels", c.Metrics.MaxProxyLabels >= 1 && c.Metrics.MaxProxyLabels <= 100000, "must be from 1 to 100000")
	if e := c.Tracing.OTLPEndpoint; e != "" {
		u, err := url.Parse(e)
		v.check("tracing.otlpEndpoint", err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "",
			"must be an http(s) URL such as http://127.0.0.1:4318/v1/traces")
	}
	v.check("tracing.sampleRatio", c.Tracing.SampleRatio >= 0 && c.Tracing.SampleRatio <= 1, "must be from 0 to 1")
	v.check("notifications.credentialExpiryWarning", c.Notifications.CredentialExpiryWarning >= time.Hour,
		"must be a duration of at least 1h (such as 168h)")
}
