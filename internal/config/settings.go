package config

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EnvConfig names the environment variable that may give the config file's
// path when --config is not used.
const EnvConfig = "KEYWAY_CONFIG"

// setting ties one configuration value to its YAML key, environment variable
// and flag. The table below is the single source for env and flag handling;
// a test checks that docs/configuration.md mentions every entry.
type setting struct {
	key   string // YAML path, e.g. "egress.allowCIDRs"
	env   string // environment variable
	flag  string // flag name without dashes, or ""
	usage string // flag help
	// noFileEnv disables the generic <env>_FILE form: KEYWAY_MASTER_KEY's
	// would collide with KEYWAY_MASTER_KEY_FILE, which is a path of its own.
	noFileEnv bool
	field     func(c *Config) any // pointer to the field
}

var settings = []setting{
	{key: "dataDir", env: "KEYWAY_DATA_DIR", flag: "data-dir", usage: "`directory` for the SQLite database and generated key file",
		field: func(c *Config) any { return &c.DataDir }},
	{key: "proxyAddr", env: "KEYWAY_PROXY_ADDR", flag: "proxy-addr", usage: "data plane listen `address` (host:port)",
		field: func(c *Config) any { return &c.ProxyAddr }},
	{key: "adminAddr", env: "KEYWAY_ADMIN_ADDR", flag: "admin-addr", usage: "Core API and dashboard listen `address` (host:port)",
		field: func(c *Config) any { return &c.AdminAddr }},
	{key: "database.url", env: "KEYWAY_DATABASE", flag: "database", usage: "postgres:// URL or SQLite file `path`; default <data-dir>/keyway.db",
		field: func(c *Config) any { return &c.Database.URL }},
	{key: "database.maxConns", env: "KEYWAY_DATABASE_MAX_CONNS",
		field: func(c *Config) any { return &c.Database.MaxConns }},
	{key: "database.statementTimeout", env: "KEYWAY_DATABASE_STATEMENT_TIMEOUT",
		field: func(c *Config) any { return &c.Database.StatementTimeout }},
	{key: "publicURL", env: "KEYWAY_PUBLIC_URL", flag: "public-url", usage: "data plane base `URL` as callers reach it",
		field: func(c *Config) any { return &c.PublicURL }},
	{key: "adminPublicURL", env: "KEYWAY_ADMIN_PUBLIC_URL", flag: "admin-public-url", usage: "admin base `URL` as browsers and OAuth2 providers reach it",
		field: func(c *Config) any { return &c.AdminPublicURL }},
	{key: "masterKey", env: "KEYWAY_MASTER_KEY", noFileEnv: true,
		field: func(c *Config) any { return &c.MasterKey }},
	{key: "masterKeyFile", env: "KEYWAY_MASTER_KEY_FILE", flag: "master-key-file", usage: "`path` of the master key file", noFileEnv: true,
		field: func(c *Config) any { return &c.MasterKeyFile }},
	{key: "bootstrapToken", env: "KEYWAY_BOOTSTRAP_TOKEN",
		field: func(c *Config) any { return &c.BootstrapToken }},
	{key: "bootstrapPassword", env: "KEYWAY_BOOTSTRAP_PASSWORD",
		field: func(c *Config) any { return &c.BootstrapPassword }},
	{key: "egress.allowPrivateNetworks", env: "KEYWAY_EGRESS_ALLOW_PRIVATE_NETWORKS",
		field: func(c *Config) any { return &c.Egress.AllowPrivateNetworks }},
	{key: "egress.allowCIDRs", env: "KEYWAY_EGRESS_ALLOW_CIDRS",
		field: func(c *Config) any { return &c.Egress.AllowCIDRs }},
	{key: "tls.proxy.certFile", env: "KEYWAY_PROXY_TLS_CERT", flag: "proxy-tls-cert", usage: "data plane TLS certificate `file` (PEM)",
		field: func(c *Config) any { return &c.TLS.Proxy.CertFile }},
	{key: "tls.proxy.keyFile", env: "KEYWAY_PROXY_TLS_KEY", flag: "proxy-tls-key", usage: "data plane TLS key `file` (PEM)",
		field: func(c *Config) any { return &c.TLS.Proxy.KeyFile }},
	{key: "tls.admin.certFile", env: "KEYWAY_ADMIN_TLS_CERT", flag: "admin-tls-cert", usage: "admin TLS certificate `file` (PEM)",
		field: func(c *Config) any { return &c.TLS.Admin.CertFile }},
	{key: "tls.admin.keyFile", env: "KEYWAY_ADMIN_TLS_KEY", flag: "admin-tls-key", usage: "admin TLS key `file` (PEM)",
		field: func(c *Config) any { return &c.TLS.Admin.KeyFile }},
	{key: "trustedProxies", env: "KEYWAY_TRUSTED_PROXIES",
		field: func(c *Config) any { return &c.TrustedProxies }},
	{key: "serveRegions", env: "KEYWAY_SERVE_REGIONS", flag: "serve-regions", usage: "comma-separated region `ids` this node's data plane serves; default all",
		field: func(c *Config) any { return &c.ServeRegions }},
	{key: "limits.requestBodyBytes", env: "KEYWAY_LIMITS_REQUEST_BODY_BYTES",
		field: func(c *Config) any { return &c.Limits.RequestBodyBytes }},
	{key: "limits.maxHeaderBytes", env: "KEYWAY_LIMITS_MAX_HEADER_BYTES",
		field: func(c *Config) any { return &c.Limits.MaxHeaderBytes }},
	{key: "limits.bodyInspectionBytes", env: "KEYWAY_LIMITS_BODY_INSPECTION_BYTES",
		field: func(c *Config) any { return &c.Limits.BodyInspectionBytes }},
	{key: "headerPrefix", env: "KEYWAY_HEADER_PREFIX",
		field: func(c *Config) any { return &c.HeaderPrefix }},
	{key: "log.level", env: "KEYWAY_LOG_LEVEL", flag: "log-level", usage: "log `level`: debug, info, warn or error",
		field: func(c *Config) any { return &c.Log.Level }},
	{key: "log.format", env: "KEYWAY_LOG_FORMAT", flag: "log-format", usage: "log `format`: json, text or auto",
		field: func(c *Config) any { return &c.Log.Format }},
	{key: "log.accessLog", env: "KEYWAY_ACCESS_LOG",
		field: func(c *Config) any { return &c.Log.AccessLog }},
	{key: "shutdownTimeout", env: "KEYWAY_SHUTDOWN_TIMEOUT",
		field: func(c *Config) any { return &c.ShutdownTimeout }},
	{key: "debugAddr", env: "KEYWAY_DEBUG_ADDR", flag: "debug-addr", usage: "serve Go pprof profiles on this `address` (loopback only); default off",
		field: func(c *Config) any { return &c.DebugAddr }},
	{key: "requestLog.enabled", env: "KEYWAY_REQUEST_LOG",
		field: func(c *Config) any { return &c.RequestLog.Enabled }},
	{key: "requestLog.retentionDays", env: "KEYWAY_REQUEST_LOG_RETENTION_DAYS",
		field: func(c *Config) any { return &c.RequestLog.RetentionDays }},
	{key: "requestLog.queueSize", env: "KEYWAY_REQUEST_LOG_QUEUE_SIZE",
		field: func(c *Config) any { return &c.RequestLog.QueueSize }},
	{key: "requestLog.batchSize", env: "KEYWAY_REQUEST_LOG_BATCH_SIZE",
		field: func(c *Config) any { return &c.RequestLog.BatchSize }},
	{key: "requestLog.sensitiveHeaders", env: "KEYWAY_REQUEST_LOG_SENSITIVE_HEADERS",
		field: func(c *Config) any { return &c.RequestLog.SensitiveHeaders }},
	{key: "requestLog.sensitiveParams", env: "KEYWAY_REQUEST_LOG_SENSITIVE_PARAMS",
		field: func(c *Config) any { return &c.RequestLog.SensitiveParams }},
	{key: "requestLog.maxBodyBytes", env: "KEYWAY_REQUEST_LOG_MAX_BODY_BYTES",
		field: func(c *Config) any { return &c.RequestLog.MaxBodyBytes }},
	{key: "metrics.maxProxyLabels", env: "KEYWAY_METRICS_MAX_PROXY_LABELS",
		field: func(c *Config) any { return &c.Metrics.MaxProxyLabels }},
	{key: "tracing.otlpEndpoint", env: "KEYWAY_TRACING_OTLP_ENDPOINT",
		field: func(c *Config) any { return &c.Tracing.OTLPEndpoint }},
	{key: "tracing.sampleRatio", env: "KEYWAY_TRACING_SAMPLE_RATIO",
		field: func(c *Config) any { return &c.Tracing.SampleRatio }},
	{key: "notifications.credentialExpiryWarning", env: "KEYWAY_NOTIFICATIONS_CREDENTIAL_EXPIRY_WARNING",
		field: func(c *Config) any { return &c.Notifications.CredentialExpiryWarning }},
}

func settingByKey(key string) (setting, bool) {
	i := slices.IndexFunc(settings, func(s setting) bool { return s.key == key })
	if i < 0 {
		return setting{}, false
	}
	return settings[i], true
}

// set parses raw into the setting's field. Errors never contain raw.
func (s setting) set(c *Config, raw string) error {
	switch p := s.field(c).(type) {
	case *string:
		*p = raw
	case *Secret:
		*p = Secret(raw)
	case *[]string:
		*p = splitList(raw)
	case *bool:
		v, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			return errors.New("must be true or false")
		}
		*p = v
	case *int64:
		v, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil {
			return errors.New("must be a whole number")
		}
		*p = v
	case *int:
		v, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil {
			return errors.New("must be a whole number")
		}
		*p = v
	case *time.Duration:
		v, err := time.ParseDuration(strings.TrimSpace(raw))
		if err != nil {
			return errors.New("must be a duration such as 30s or 1m")
		}
		*p = v
	case *float64:
		v, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil {
			return errors.New("must be a number")
		}
		*p = v
	default:
		panic(fmt.Sprintf("config: setting %s has unsupported type %T", s.key, p))
	}
	return nil
}

// display formats the setting's current value for flag help; secrets are
// never displayed.
func (s setting) display(c *Config) string {
	switch p := s.field(c).(type) {
	case *string:
		return *p
	case *[]string:
		return strings.Join(*p, ",")
	case *bool:
		return strconv.FormatBool(*p)
	case *int64:
		return strconv.FormatInt(*p, 10)
	case *int:
		return strconv.Itoa(*p)
	case *time.Duration:
		return p.String()
	case *float64:
		return strconv.FormatFloat(*p, 'g', -1, 64)
	}
	return ""
}

// splitList splits a comma-separated value, trimming spaces and dropping
// empty items.
func splitList(raw string) []string {
	var out []string
	for item := range strings.SplitSeq(raw, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// applyEnv applies KEYWAY_* variables and their *_FILE forms. An empty value
// counts as unset, so templates can leave variables blank.
func (c *Config) applyEnv(lookup func(string) (string, bool), readFile func(string) ([]byte, error)) []string {
	var problems []string
	for _, s := range settings {
		raw, source, err := envValue(s, lookup, readFile)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if source == "" {
			continue
		}
		if err := s.set(c, raw); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", source, err))
			continue
		}
		c.origin[s.key] = source
	}
	return problems
}

func envValue(s setting, lookup func(string) (string, bool), readFile func(string) ([]byte, error)) (raw, source string, err error) {
	raw, direct := lookupNonEmpty(lookup, s.env)
	fileEnv := s.env + "_FILE"
	path, indirect := "", false
	if !s.noFileEnv {
		path, indirect = lookupNonEmpty(lookup, fileEnv)
	}
	switch {
	case direct && indirect:
		return "", "", fmt.Errorf("%s and %s are both set; use one", s.env, fileEnv)
	case indirect:
		b, err := readFile(path)
		if err != nil {
			return "", "", fmt.Errorf("%s: %w", fileEnv, err)
		}
		return trimFinalNewline(string(b)), fileEnv, nil
	case direct:
		return raw, s.env, nil
	}
	return "", "", nil
}

func lookupNonEmpty(lookup func(string) (string, bool), name string) (string, bool) {
	v, ok := lookup(name)
	return v, ok && v != ""
}

func trimFinalNewline(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}

// UnknownEnv returns the KEYWAY_* names in environ (KEY=value entries, as
// from os.Environ) that keyway does not know, so the CLI can warn about
// typos. It returns them sorted.
func UnknownEnv(environ []string) []string {
	known := map[string]bool{EnvConfig: true}
	for _, s := range settings {
		known[s.env] = true
		if !s.noFileEnv {
			known[s.env+"_FILE"] = true
		}
	}
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "KEYWAY_") && !known[name] {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
