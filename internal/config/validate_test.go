package config

import (
	"slices"
	"strings"
	"testing"
)

func TestPostgresNeedsSharedMasterKey(t *testing.T) {
	t.Parallel()
	_, err := load(t, nil, env{"KEYWAY_DATABASE": "postgresql://db/keyway"})
	if ps := problemsOf(t, err); len(ps) != 1 || !strings.Contains(ps[0], "required with PostgreSQL") {
		t.Fatalf("problems = %q", ps)
	}
	mustLoad(t, nil, env{"KEYWAY_DATABASE": "postgresql://db/keyway", "KEYWAY_MASTER_KEY": validKey})
	mustLoad(t, nil, env{"KEYWAY_DATABASE": "postgresql://db/keyway", "KEYWAY_MASTER_KEY_FILE": "/k"})
}

func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "bad.yaml", `
dataDir: ""
adminAddr: "localhost"
publicURL: "ftp://proxy.example.com"
adminPublicURL: "https://user:pw@admin.example.com/?q=1"
egress:
  allowCIDRs: [10.0.0.1/8, not-a-cidr]
tls:
  proxy: {certFile: /p.crt}
  admin: {keyFile: /a.key}
trustedProxies: [300.0.0.0/8]
regions:
  - {id: eu, latitude: 91, longitude: 0}
  - {id: eu, latitude: 0, longitude: -181}
  - {id: "Bad Id", publicURL: "not a url"}
serveRegions: [eu, mars]
limits: {requestBodyBytes: 0, maxHeaderBytes: -1}
headerPrefix: "bad prefix:"
log: {level: verbose, format: xml}
shutdownTimeout: 0s
`)
	_, err := load(t, []string{"--config", path, "--proxy-addr", ":99999", "--database", "mysql://x"}, env{
		"KEYWAY_MASTER_KEY":         "too-short",
		"KEYWAY_BOOTSTRAP_TOKEN":    "t-short",
		"KEYWAY_BOOTSTRAP_PASSWORD": "short",
	})
	want := []string{
		"dataDir: must not be empty",
		`proxyAddr (--proxy-addr): port "99999"`,
		`adminAddr: "localhost" is not host:port`,
		`database.url (--database): URL scheme "mysql" is not supported`,
		`publicURL: "ftp://proxy.example.com" must start with http`,
		"adminPublicURL: must not contain a user name or password",
		"masterKey (KEYWAY_MASTER_KEY): must be base64",
		"bootstrapToken (KEYWAY_BOOTSTRAP_TOKEN): must start with",
		"bootstrapPassword (KEYWAY_BOOTSTRAP_PASSWORD): must be at least 8",
		`egress.allowCIDRs[0]: "10.0.0.1/8" has host bits set (did you mean 10.0.0.0/8?)`,
		`egress.allowCIDRs[1]: "not-a-cidr" not a CIDR`,
		`trustedProxies[0]: "300.0.0.0/8" not a CIDR`,
		"tls.proxy.keyFile: is required",
		"tls.admin.certFile: is required",
		"regions[0].latitude: must be between -90 and 90",
		`regions[1].id: "eu" is used by more than one region`,
		"regions[1].longitude: must be between -180 and 180",
		`regions[2].id: "Bad Id" must be`,
		"regions[2].publicURL:",
		`serveRegions: "mars" is not a configured region`,
		"limits.requestBodyBytes: must be positive",
		"limits.maxHeaderBytes: must be positive",
		"headerPrefix: must be",
		`log.level: "verbose" is not one of debug, info, warn, error`,
		`log.format: "xml" is not one of json, text, auto`,
		"shutdownTimeout: must be a positive duration",
	}
	ps := problemsOf(t, err)
	for _, w := range want {
		if !slices.ContainsFunc(ps, func(p string) bool { return strings.HasPrefix(p, w) }) {
			t.Errorf("no problem starting %q", w)
		}
	}
	if len(ps) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(ps), len(want), strings.Join(ps, "\n"))
	}
	for _, secret := range []string{"too-short", "t-short", "pw@"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error text contains secret %q", secret)
		}
	}
}

func TestValidateDoesNotModify(t *testing.T) {
	t.Parallel()
	c := Default()
	c.Regions = []Region{{ID: "a"}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Database.URL != "" || c.Regions[0].PublicURL != "" || c.Regions[0].Name != "" {
		t.Fatalf("Validate modified the config: %+v", c)
	}
	c.ProxyAddr, c.AdminAddr = ":9000", ":9000"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "adminAddr: must differ from proxyAddr") {
		t.Fatalf("same addresses: %v", err)
	}
	c.ProxyAddr, c.AdminAddr = "127.0.0.1:0", "127.0.0.1:0" // tests bind both to free ports
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeMasterKey(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{validKey, strings.TrimRight(validKey, "="), " " + validKey + "\n",
		"__________________________________________8="} {
		if b, err := DecodeMasterKey(ok); err != nil || len(b) != 32 {
			t.Errorf("DecodeMasterKey(%q) = %d bytes, %v", ok, len(b), err)
		}
	}
	for _, bad := range []string{"", "AAAA", "not base64 at all!", validKey + validKey} {
		if _, err := DecodeMasterKey(bad); err == nil {
			t.Errorf("DecodeMasterKey(%q) = nil error", bad)
		}
	}
}
