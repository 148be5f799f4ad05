package config

import (
	"errors"
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/keyway-dev/keyway/internal/egress"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// validKey is base64 of 32 zero bytes.
const validKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

// env is a fake environment for Load.
type env map[string]string

func (e env) lookup(name string) (string, bool) {
	v, ok := e[name]
	return v, ok
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// load registers and parses args on a fresh FlagSet, then loads.
func load(t *testing.T, args []string, e env) (*Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parsing flags %v: %v", args, err)
	}
	return Load(f, e.lookup)
}

func mustLoad(t *testing.T, args []string, e env) *Config {
	t.Helper()
	c, err := load(t, args, e)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want *ValidationError", err)
	}
	return ve.Problems
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"dataDir":                 DefaultDataDir,
		"proxyAddr":               ":8080",
		"adminAddr":               ":8081",
		"database":                filepath.Join(DefaultDataDir, "keyway.db"),
		"publicURL":               "http://localhost:8080",
		"adminPublicURL":          "http://localhost:8081",
		"headerPrefix":            "requestrocket-",
		"log.level":               "info",
		"log.format":              "auto",
		"log.accessLog":           false,
		"limits.requestBodyBytes": int64(10 << 20),
		"limits.maxHeaderBytes":   64 << 10,
		"shutdownTimeout":         30 * time.Second,
		"egress.allowPrivate":     false,
	}
	got := map[string]any{
		"dataDir": c.DataDir, "proxyAddr": c.ProxyAddr, "adminAddr": c.AdminAddr, "database": c.Database.URL,
		"publicURL": c.PublicURL, "adminPublicURL": c.AdminPublicURL, "headerPrefix": c.HeaderPrefix,
		"log.level": c.Log.Level, "log.format": c.Log.Format, "log.accessLog": c.Log.AccessLog,
		"limits.requestBodyBytes": c.Limits.RequestBodyBytes, "limits.maxHeaderBytes": c.Limits.MaxHeaderBytes,
		"shutdownTimeout": c.ShutdownTimeout, "egress.allowPrivate": c.Egress.AllowPrivateNetworks,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	wantRegions := []Region{{ID: "local", Name: "Local", PublicURL: "http://localhost:8080"}}
	if !slices.Equal(c.Regions, wantRegions) {
		t.Errorf("Regions = %+v, want %+v", c.Regions, wantRegions)
	}
	if c.DatabaseKind() != DatabaseSQLite || c.DatabasePath() != c.Database.URL {
		t.Errorf("DatabaseKind/Path = %s %s", c.DatabaseKind(), c.DatabasePath())
	}
	if len(c.ServeRegions) != 0 || !c.Serves("local") || !c.Serves("anything") {
		t.Error("an empty serveRegions must serve every region")
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}
}

func TestPrecedence(t *testing.T) {
	t.Parallel()
	file := writeFile(t, "keyway.yaml", "proxyAddr: ':1001'\nlog:\n  level: warn\nserveRegions: [local]\n")
	tests := []struct {
		name      string
		args      []string
		env       env
		wantAddr  string
		wantLevel string
	}{
		{"default", nil, nil, ":8080", "info"},
		{"file", []string{"--config", file}, nil, ":1001", "warn"},
		{"file via KEYWAY_CONFIG", nil, env{"KEYWAY_CONFIG": file}, ":1001", "warn"},
		{"env over default", nil, env{"KEYWAY_PROXY_ADDR": ":1002"}, ":1002", "info"},
		{"env over file", []string{"--config", file}, env{"KEYWAY_PROXY_ADDR": ":1002", "KEYWAY_LOG_LEVEL": "debug"}, ":1002", "debug"},
		{"flag over default", []string{"--proxy-addr", ":1003"}, nil, ":1003", "info"},
		{"flag over env and file", []string{"--config", file, "--proxy-addr=:1003", "--log-level", "error"},
			env{"KEYWAY_PROXY_ADDR": ":1002", "KEYWAY_LOG_LEVEL": "debug"}, ":1003", "error"},
		{"empty env is unset", []string{"--config", file}, env{"KEYWAY_PROXY_ADDR": ""}, ":1001", "warn"},
		{"level is case-insensitive", nil, env{"KEYWAY_LOG_LEVEL": "WARN"}, ":8080", "warn"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := mustLoad(t, tc.args, tc.env)
			if c.ProxyAddr != tc.wantAddr || c.Log.Level != tc.wantLevel {
				t.Fatalf("proxyAddr, log.level = %q, %q; want %q, %q", c.ProxyAddr, c.Log.Level, tc.wantAddr, tc.wantLevel)
			}
		})
	}
}

func TestEveryEnvAndFlag(t *testing.T) {
	t.Parallel()
	e := env{
		"KEYWAY_DATA_DIR":                      "/var/lib/keyway",
		"KEYWAY_PROXY_ADDR":                    "127.0.0.1:9080",
		"KEYWAY_ADMIN_ADDR":                    "[::1]:9081",
		"KEYWAY_PUBLIC_URL":                    "https://proxy.example.com/",
		"KEYWAY_ADMIN_PUBLIC_URL":              "https://admin.example.com",
		"KEYWAY_MASTER_KEY":                    validKey,
		"KEYWAY_BOOTSTRAP_TOKEN":               "u-0123456789abcdef0123456789",
		"KEYWAY_BOOTSTRAP_PASSWORD":            "correct horse",
		"KEYWAY_EGRESS_ALLOW_PRIVATE_NETWORKS": "true",
		"KEYWAY_EGRESS_ALLOW_CIDRS":            "10.0.0.0/8, 192.168.1.7 ,,fd00::/8",
		"KEYWAY_PROXY_TLS_CERT":                "/tls/p.crt",
		"KEYWAY_PROXY_TLS_KEY":                 "/tls/p.key",
		"KEYWAY_ADMIN_TLS_CERT":                "/tls/a.crt",
		"KEYWAY_ADMIN_TLS_KEY":                 "/tls/a.key",
		"KEYWAY_TRUSTED_PROXIES":               "10.0.0.0/8,::1",
		"KEYWAY_SERVE_REGIONS":                 "local",
		"KEYWAY_LIMITS_REQUEST_BODY_BYTES":     "1024",
		"KEYWAY_LIMITS_MAX_HEADER_BYTES":       "2048",
		"KEYWAY_HEADER_PREFIX":                 "x-keyway-",
		"KEYWAY_LOG_LEVEL":                     "debug",
		"KEYWAY_LOG_FORMAT":                    "json",
		"KEYWAY_ACCESS_LOG":                    "1",
		"KEYWAY_SHUTDOWN_TIMEOUT":              "5s",
	}
	c := mustLoad(t, []string{"--database", "postgres://keyway@db:5432/keyway"}, e)
	checks := []struct {
		name string
		ok   bool
	}{
		{"dataDir", c.DataDir == "/var/lib/keyway"},
		{"proxyAddr", c.ProxyAddr == "127.0.0.1:9080"},
		{"adminAddr", c.AdminAddr == "[::1]:9081"},
		{"publicURL trimmed", c.PublicURL == "https://proxy.example.com"},
		{"adminPublicURL", c.AdminPublicURL == "https://admin.example.com"},
		{"masterKey", c.MasterKey.Reveal() == validKey},
		{"bootstrapToken", c.BootstrapToken.Reveal() == "u-0123456789abcdef0123456789"},
		{"bootstrapPassword", c.BootstrapPassword.Reveal() == "correct horse"},
		{"egress.allowPrivateNetworks", c.Egress.AllowPrivateNetworks},
		{"egress.allowCIDRs", slices.Equal(c.Egress.AllowCIDRs, []string{"10.0.0.0/8", "192.168.1.7", "fd00::/8"})},
		{"tls", c.TLS == TLS{Proxy: CertPair{"/tls/p.crt", "/tls/p.key"}, Admin: CertPair{"/tls/a.crt", "/tls/a.key"}}},
		{"trustedProxies", slices.Equal(c.TrustedProxyPrefixes(), []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")})},
		{"serveRegions", slices.Equal(c.ServeRegions, []string{"local"})},
		{"limits", c.Limits == Limits{RequestBodyBytes: 1024, MaxHeaderBytes: 2048}},
		{"headerPrefix", c.HeaderPrefix == "x-keyway-"},
		{"log", c.Log == Log{Level: "debug", Format: "json", AccessLog: true}},
		{"shutdownTimeout", c.ShutdownTimeout == 5*time.Second},
		{"database", c.DatabaseKind() == DatabasePostgres && c.DatabasePath() == ""},
		{"region publicURL follows env", c.Regions[0].PublicURL == "https://proxy.example.com"},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("%s not applied: %+v", ch.name, c)
		}
	}
	key, err := c.MasterKeyBytes()
	if err != nil || len(key) != MasterKeySize {
		t.Errorf("MasterKeyBytes = %d bytes, %v", len(key), err)
	}
}

func TestFileEnvIndirection(t *testing.T) {
	t.Parallel()
	secretFile := writeFile(t, "password", "from a file\n\n")
	crlfFile := writeFile(t, "addr", ":7070\r\n")

	c := mustLoad(t, nil, env{"KEYWAY_BOOTSTRAP_PASSWORD_FILE": secretFile, "KEYWAY_PROXY_ADDR_FILE": crlfFile})
	if got := c.BootstrapPassword.Reveal(); got != "from a file\n" {
		t.Errorf("password = %q; only the final newline is trimmed", got)
	}
	if c.ProxyAddr != ":7070" {
		t.Errorf("proxyAddr = %q", c.ProxyAddr)
	}

	_, err := load(t, nil, env{"KEYWAY_DATA_DIR": "/a", "KEYWAY_DATA_DIR_FILE": secretFile})
	ps := problemsOf(t, err)
	if len(ps) != 1 || !strings.Contains(ps[0], "KEYWAY_DATA_DIR and KEYWAY_DATA_DIR_FILE are both set") {
		t.Errorf("both set: problems = %q", ps)
	}

	_, err = load(t, nil, env{"KEYWAY_DATABASE_FILE": filepath.Join(t.TempDir(), "missing")})
	ps = problemsOf(t, err)
	if len(ps) != 1 || !strings.HasPrefix(ps[0], "KEYWAY_DATABASE_FILE: ") {
		t.Errorf("missing file: problems = %q", ps)
	}
}

func TestMasterKeyFileIsAPath(t *testing.T) {
	t.Parallel()
	keyFile := filepath.Join(t.TempDir(), "master.key") // need not exist yet
	c := mustLoad(t, nil, env{"KEYWAY_MASTER_KEY_FILE": keyFile})
	if c.MasterKeyFile != keyFile || c.MasterKey != "" {
		t.Fatalf("masterKeyFile = %q, masterKey set = %t", c.MasterKeyFile, c.MasterKey != "")
	}
	c = mustLoad(t, []string{"--master-key-file", "/flag/key"}, env{"KEYWAY_MASTER_KEY_FILE": keyFile})
	if c.MasterKeyFile != "/flag/key" {
		t.Fatalf("flag did not win: %q", c.MasterKeyFile)
	}
	_, err := load(t, nil, env{"KEYWAY_MASTER_KEY_FILE": keyFile, "KEYWAY_MASTER_KEY": validKey})
	if ps := problemsOf(t, err); len(ps) != 1 || !strings.Contains(ps[0], "masterKeyFile are both set") {
		t.Fatalf("problems = %q", ps)
	}
}

func TestDatabaseKind(t *testing.T) {
	t.Parallel()
	tests := []struct{ db, kind, path string }{
		{"", DatabaseSQLite, filepath.Join("data", "keyway.db")},
		{"/srv/keyway.db", DatabaseSQLite, "/srv/keyway.db"},
		{"keyway.sqlite", DatabaseSQLite, "keyway.sqlite"},
		{"postgres://u:p@h/db", DatabasePostgres, ""},
		{"PostgreSQL://h/db?sslmode=require", DatabasePostgres, ""},
	}
	for _, tc := range tests {
		c := &Config{DataDir: "data", Database: Database{URL: tc.db}}
		if c.DatabaseKind() != tc.kind || c.DatabasePath() != tc.path {
			t.Errorf("%q: kind %s path %q, want %s %q", tc.db, c.DatabaseKind(), c.DatabasePath(), tc.kind, tc.path)
		}
	}
	c := mustLoad(t, []string{"--data-dir", "/x"}, nil)
	if c.Database.URL != filepath.Join("/x", "keyway.db") {
		t.Errorf("database default does not follow dataDir: %q", c.Database.URL)
	}
}

func TestUnknownYAMLKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		yaml string
		want []string
	}{
		{"dataDir: x\nproxyadr: ':1'\n", []string{`unknown key "proxyadr" (line 2)`}},
		{"egress:\n  allowPrivateNetwork: true\n", []string{`unknown key "egress.allowPrivateNetwork" (line 2)`}},
		{"tls:\n  proxy:\n    cert: a\n", []string{`unknown key "tls.proxy.cert" (line 3)`}},
		{"regions:\n  - id: eu\n  - id: us\n    lat: 3\n", []string{`unknown key "regions[1].lat" (line 4)`}},
		{"foo: 1\nlog:\n  colour: red\n", []string{`unknown key "foo"`, `unknown key "log.colour"`}},
		{"masterKey: " + validKey + "\n", []string{`"masterKey" may not be set in the config file`, "KEYWAY_MASTER_KEY"}},
		{"bootstrapPassword: hunter22\n", []string{`"bootstrapPassword" may not be set`, "KEYWAY_BOOTSTRAP_PASSWORD"}},
		{"base: &b\n  level: info\nlog:\n  <<: *b\n  bogus: 1\n", []string{`unknown key "base"`, `unknown key "log.bogus"`}},
	}
	for _, tc := range tests {
		path := writeFile(t, "c.yaml", tc.yaml)
		_, err := load(t, []string{"--config", path}, nil)
		ps := problemsOf(t, err)
		joined := strings.Join(ps, "\n")
		for _, w := range tc.want {
			if !strings.Contains(joined, w) {
				t.Errorf("yaml %q: problems %q do not contain %q", tc.yaml, ps, w)
			}
		}
		if strings.Contains(joined, validKey) || strings.Contains(joined, "hunter22") {
			t.Errorf("problems echo a secret: %q", ps)
		}
	}
}

func TestYAMLFileShapes(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"", "# nothing\n", "---\n", "~\n"} {
		if _, err := load(t, []string{"--config", writeFile(t, "c.yaml", ok)}, nil); err != nil {
			t.Errorf("file %q: %v", ok, err)
		}
	}
	for _, bad := range []string{"- a\n- b\n", "a: 1\n---\nb: 2\n", "limits:\n  requestBodyBytes: lots\n", "dataDir: [unclosed\n", "a: 1\na: 2\n"} {
		if _, err := load(t, []string{"--config", writeFile(t, "c.yaml", bad)}, nil); err == nil {
			t.Errorf("file %q: no error", bad)
		}
	}
	if _, err := load(t, []string{"--config", filepath.Join(t.TempDir(), "none.yaml")}, nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestFullFile(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "keyway.yaml", `
dataDir: /data
proxyAddr: ":9000"
adminAddr: "127.0.0.1:9001"
database: /data/k.db
publicURL: https://eu.proxy.example.com
adminPublicURL: https://admin.example.com
masterKeyFile: /keys/master
egress:
  allowPrivateNetworks: true
  allowCIDRs: [10.1.0.0/16, "fd00::/8"]
tls:
  proxy: {certFile: /tls/p.crt, keyFile: /tls/p.key}
  admin: {certFile: /tls/a.crt, keyFile: /tls/a.key}
trustedProxies: [10.0.0.0/8]
regions:
  - {id: eu-west, name: Europe, latitude: 53.3, longitude: -6.2}
  - {id: us-east, latitude: 38.9, longitude: -77.0, publicURL: "https://us.proxy.example.com/"}
serveRegions: [eu-west]
limits: {requestBodyBytes: 2048, maxHeaderBytes: 4096}
headerPrefix: x-kw-
log: {level: debug, format: text, accessLog: true}
shutdownTimeout: 1m30s
`)
	c := mustLoad(t, []string{"--config", path}, env{"KEYWAY_PUBLIC_URL": "https://override.example.com"})
	want := []Region{
		{ID: "eu-west", Name: "Europe", Latitude: 53.3, Longitude: -6.2, PublicURL: "https://override.example.com"},
		{ID: "us-east", Name: "us-east", Latitude: 38.9, Longitude: -77.0, PublicURL: "https://us.proxy.example.com"},
	}
	if !slices.Equal(c.Regions, want) {
		t.Errorf("regions = %+v\nwant %+v", c.Regions, want)
	}
	if c.ShutdownTimeout != 90*time.Second || c.Log != (Log{"debug", "text", true}) || c.HeaderPrefix != "x-kw-" {
		t.Errorf("config = %+v", c)
	}
	if !c.Serves("eu-west") || c.Serves("us-east") {
		t.Error("serveRegions not honoured")
	}
	if r, ok := c.RegionByID("us-east"); !ok || r.Latitude != 38.9 {
		t.Errorf("RegionByID = %+v, %t", r, ok)
	}
	p := c.EgressPolicy()
	if !p.AllowPrivateNetworks || !slices.Equal(p.AllowCIDRs, []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("fd00::/8")}) {
		t.Errorf("EgressPolicy = %+v", p)
	}
	if err := p.Check(netip.MustParseAddr("169.254.169.254")); !errors.Is(err, egress.ErrBlocked) {
		t.Error("metadata must stay blocked whatever the config")
	}
}

func TestEnvParseErrors(t *testing.T) {
	t.Parallel()
	_, err := load(t, nil, env{
		"KEYWAY_ACCESS_LOG":                "maybe",
		"KEYWAY_SHUTDOWN_TIMEOUT":          "30",
		"KEYWAY_LIMITS_REQUEST_BODY_BYTES": "10MB",
	})
	ps := problemsOf(t, err)
	for _, w := range []string{"KEYWAY_ACCESS_LOG: must be true or false", "KEYWAY_SHUTDOWN_TIMEOUT: must be a duration", "KEYWAY_LIMITS_REQUEST_BODY_BYTES: must be a whole number"} {
		if !slices.ContainsFunc(ps, func(p string) bool { return strings.HasPrefix(p, w) }) {
			t.Errorf("problems %q lack %q", ps, w)
		}
	}
}

func TestFlagsRegister(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	Register(fs)
	for _, s := range settings {
		if s.flag != "" && fs.Lookup(s.flag) == nil {
			t.Errorf("flag --%s not registered", s.flag)
		}
	}
	for _, name := range []string{"config", "data-dir", "proxy-addr", "admin-addr", "database", "public-url", "admin-public-url",
		"master-key-file", "proxy-tls-cert", "proxy-tls-key", "admin-tls-cert", "admin-tls-key", "serve-regions", "log-level"} {
		if fs.Lookup(name) == nil {
			t.Errorf("flag --%s missing", name)
		}
	}
	if d := fs.Lookup("data-dir").DefValue; d != DefaultDataDir {
		t.Errorf("--data-dir help default = %q", d)
	}
	if _, err := Load(nil, env{"KEYWAY_SERVE_REGIONS": "local"}.lookup); err != nil {
		t.Errorf("Load(nil flags): %v", err)
	}
}

func TestUnknownEnv(t *testing.T) {
	t.Parallel()
	got := UnknownEnv([]string{
		"PATH=/bin", "KEYWAY_DATA_DIR=/d", "KEYWAY_DATADIR=/d", "KEYWAY_MASTER_KEY_FILE=/k",
		"KEYWAY_BOOTSTRAP_TOKEN_FILE=/t", "KEYWAY_MASTER_KEY_FILE_FILE=/x", "KEYWAY_CONFIG=/c", "KEYWAY_DATADIR=/e",
	})
	if want := []string{"KEYWAY_DATADIR", "KEYWAY_MASTER_KEY_FILE_FILE"}; !slices.Equal(got, want) {
		t.Fatalf("UnknownEnv = %q, want %q", got, want)
	}
}

// TestDocsMentionEverySetting keeps docs/configuration.md in step with the
// settings table.
func TestDocsMentionEverySetting(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, s := range settings {
		for _, name := range []string{"`" + s.key + "`", "`" + s.env + "`"} {
			if !strings.Contains(doc, name) {
				t.Errorf("docs/configuration.md does not mention %s", name)
			}
		}
		if s.flag != "" && !strings.Contains(doc, "`--"+s.flag+"`") {
			t.Errorf("docs/configuration.md does not mention `--%s`", s.flag)
		}
	}
	for _, name := range []string{"`--config`", "`" + EnvConfig + "`", "`regions`"} {
		if !strings.Contains(doc, name) {
			t.Errorf("docs/configuration.md does not mention %s", name)
		}
	}
}
