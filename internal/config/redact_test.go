package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// Canaries: none of these may ever be printed.
const (
	canaryKey      = "Q0FOQVJZLW1hc3Rlci1rZXktMzItYnl0ZXMtbG9uZyE=" // base64 of 32 bytes
	canaryToken    = "u-CANARYTOKEN0123456789abcdef"
	canaryPassword = "CANARY-password-42"
	canaryDBPass   = "CANARY-db-pass"
	canaryQueryPw  = "CANARY-query-pass"
	canaryURLPass  = "CANARY-url-pass"
)

var canaries = []string{canaryKey, canaryToken, canaryPassword, canaryDBPass, canaryQueryPw, canaryURLPass}

func assertNoCanary(t *testing.T, what, text string) {
	t.Helper()
	for _, c := range canaries {
		if strings.Contains(text, c) {
			t.Errorf("%s leaks %q:\n%s", what, c, text)
		}
	}
}

func canaryConfig(t *testing.T) *Config {
	t.Helper()
	c := mustLoad(t, nil, env{
		"KEYWAY_MASTER_KEY":         canaryKey,
		"KEYWAY_BOOTSTRAP_TOKEN":    canaryToken,
		"KEYWAY_BOOTSTRAP_PASSWORD": canaryPassword,
		"KEYWAY_DATABASE":           "postgres://keyway:" + canaryDBPass + "@db:5432/keyway?sslmode=require&password=" + canaryQueryPw,
	})
	if c.MasterKey.Reveal() != canaryKey || !strings.Contains(c.Database.URL, canaryDBPass) {
		t.Fatal("canaries not loaded")
	}
	return c
}

func TestRedaction(t *testing.T) {
	t.Parallel()
	c := canaryConfig(t)

	var logBuf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logBuf, nil))
	logger.Info("config", "config", c)
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("config", "config", c, "key", c.MasterKey)

	red := c.Redacted()
	redJSON, _ := json.Marshal(red)
	structJSON, _ := json.Marshal(c)
	outputs := map[string]string{
		"LogValue":       logBuf.String(),
		"Redacted":       string(redJSON),
		"RedactedYAML":   string(c.RedactedYAML()),
		"String":         c.String(),
		"%v":             fmt.Sprintf("%v", c),
		"%+v":            fmt.Sprintf("%+v", *c),
		"%#v":            fmt.Sprintf("%#v", c),
		"%#v value":      fmt.Sprintf("%#v", *c),
		"json of struct": string(structJSON),
		"secret %s":      fmt.Sprintf("%s %v %q", c.MasterKey, c.BootstrapToken, c.BootstrapPassword),
	}
	for what, out := range outputs {
		assertNoCanary(t, what, out)
	}

	// Redacted still says which secrets are set, and keeps the rest usable.
	if red["masterKey"] != redactedText || red["bootstrapToken"] != redactedText || red["bootstrapPassword"] != redactedText {
		t.Errorf("secrets not marked as set: %v %v %v", red["masterKey"], red["bootstrapToken"], red["bootstrapPassword"])
	}
	dbSection, _ := red["database"].(map[string]any)
	db, _ := dbSection["url"].(string)
	if !strings.HasPrefix(db, "postgres://keyway:xxxxx@db:5432/keyway?") || !strings.Contains(db, "sslmode=require") {
		t.Errorf("database = %q", db)
	}
	if red["proxyAddr"] != ":8080" || red["shutdownTimeout"] != "30s" {
		t.Errorf("redacted view lost ordinary values: %v", red)
	}
	if !strings.Contains(logBuf.String(), `"proxyAddr":":8080"`) {
		t.Errorf("LogValue lacks ordinary values: %s", logBuf.String())
	}

	unset := mustLoad(t, nil, nil).Redacted()
	if unset["masterKey"] != "" {
		t.Errorf("unset masterKey shows %v", unset["masterKey"])
	}
}

func TestRedactionInValidationMessages(t *testing.T) {
	t.Parallel()
	_, err := load(t, nil, env{
		"KEYWAY_MASTER_KEY":         "not-base64-" + canaryPassword, // invalid: must not be echoed
		"KEYWAY_BOOTSTRAP_TOKEN":    "x" + canaryToken,
		"KEYWAY_BOOTSTRAP_PASSWORD": "short",
		"KEYWAY_DATABASE":           "postgres://keyway:" + canaryDBPass + "@db:bad port/x",
		"KEYWAY_PUBLIC_URL":         "http://u:" + canaryURLPass + "@%zz/",
		"KEYWAY_ADMIN_PUBLIC_URL":   "ftp://u:" + canaryURLPass + "@admin/",
	})
	if len(problemsOf(t, err)) != 6 {
		t.Errorf("want 6 problems, got %q", problemsOf(t, err))
	}
	assertNoCanary(t, "validation error", err.Error())
}

func TestRedactOtherURLs(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"/data/keyway.db", "/data/keyway.db"},
		{"host=db password=" + canaryDBPass, redactedText},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"postgres://u:" + canaryDBPass + "@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://h/db?sslpassword=" + canaryQueryPw, "postgres://h/db?sslpassword=xxxxx"},
		{"postgres://h/db?%zz=" + canaryQueryPw, "postgres://h/db?xxxxx"},
		{"postgres://u:" + canaryDBPass + "@h:bad/db", redactedText},
	}
	for _, tc := range tests {
		if got := redactDSN(tc.in); got != tc.want {
			t.Errorf("redactDSN(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	c, err := load(t, []string{"--config", writeFile(t, "c.yaml", "regions:\n  - {id: a, publicURL: 'https://u:"+canaryURLPass+"@a.example'}\n")}, nil)
	if err == nil {
		t.Fatal("credentials in a region URL must be refused")
	}
	assertNoCanary(t, "region URL", c.String()+err.Error())
}
