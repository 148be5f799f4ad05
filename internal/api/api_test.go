package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/service"
)

func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx := t.Context()
	admin, err := e.svc.Authenticate(ctx, adminToken)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := e.svc.TokenCreate(ctx, admin, "me", service.TokenParams{Name: service.Some("short"),
		ExpiresAt: service.Some(time.Now().Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, header string
		want         int
	}{
		{"missing", "", 401},
		{"unknown", "Bearer u-nope-nope-nope", 401},
		{"not a user token", "Bearer kw_something", 401},
		{"bearer", "Bearer " + adminToken, 200},
		{"bearer lower case", "bearer " + adminToken, 200},
		{"raw", adminToken, 200},
		{"basic scheme", "Basic " + adminToken, 401},
	}
	for _, c := range cases {
		req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/api/users/me", nil)
		if c.header != "" {
			req.Header.Set("Authorization", c.header)
		}
		res, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.want {
			t.Errorf("%s: status %d, want %d", c.name, res.StatusCode, c.want)
		}
		if c.want == 401 && res.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate", c.name)
		}
	}
	if r := e.do("GET", "/api/users/me", expired.Value, nil); r.status != 200 {
		t.Fatalf("fresh token: %d", r.status)
	}
	e.skew.Store(int64(2 * time.Hour))
	r := e.do("GET", "/api/users/me", expired.Value, nil)
	if r.status != 401 || r.body["code"] != "unauthorized" || !strings.Contains(r.raw, "expired") {
		t.Errorf("expired: %d %s", r.status, r.raw)
	}
}

func TestRoutingAndHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	r := e.do("GET", "/api/nope", adminToken, nil)
	if r.status != 404 || r.body["code"] != "not-found" {
		t.Errorf("unknown route: %d %s", r.status, r.raw)
	}
	r = e.do("PATCH", "/api/clients/default/proxies", adminToken, nil)
	if r.status != 405 || r.header.Get("Allow") != "GET, HEAD, POST" || r.body["code"] != "method-not-allowed" {
		t.Errorf("wrong method: %d %q %s", r.status, r.header.Get("Allow"), r.raw)
	}
	for _, h := range [][2]string{{"Cache-Control", "no-store"}, {"X-Content-Type-Options", "nosniff"}, {"Content-Type", "application/json"}} {
		if got := r.header.Get(h[0]); got != h[1] {
			t.Errorf("%s = %q", h[0], got)
		}
	}
	if r.header.Get("X-Request-Id") == "" {
		t.Error("no request id")
	}
	// The un-prefixed aliases answer the same.
	for _, p := range []string{"/regions", "/clients", "/clients/default", "/users/me", "/clients/default/proxies"} {
		if r := e.do("GET", p, adminToken, nil); r.status != 200 || r.body["message"] != "Success" {
			t.Errorf("alias %s: %d %s", p, r.status, r.raw)
		}
	}
	if r := e.do("GET", "/openapi.json", "", nil); r.status != 404 {
		t.Errorf("openapi alias should not exist: %d", r.status)
	}
}

func TestRegionsAndClients(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	r := e.must(200, "GET", "/api/regions", nil)
	regions := r.items("regions")
	if len(regions) != 2 || regions[1]["regionId"] != "eu" || regions[1]["regionBaseURL"] != "https://eu.example.com" ||
		regions[1]["regionLatitude"] != 50.1 || regions[0]["regionName"] != "Local" {
		t.Errorf("regions: %s", r.raw)
	}
	_, memberTok := e.addUser("alice", "acme", "user")
	_, strangerTok := e.addUser("bob", "other", "owner")

	r = e.must(200, "GET", "/api/clients", nil)
	if len(r.items("clients")) != 3 {
		t.Errorf("instance admin sees all clients: %s", r.raw)
	}
	r = e.do("GET", "/api/clients", memberTok, nil)
	cs := r.items("clients")
	if len(cs) != 1 || cs[0]["clientId"] != "acme" {
		t.Errorf("member sees own clients: %s", r.raw)
	}
	c := e.must(200, "GET", "/api/clients/default", nil).obj("client")
	cfg, _ := c["clientConfiguration"].(map[string]any)
	limits, _ := cfg["limits"].(map[string]any)
	if c["clientName"] != "default" || limits["requestsPerMinute"] != 0.0 || cfg["allowedRegions"] == nil ||
		!strings.HasSuffix(c["clientCreatedAt"].(string), "Z") {
		t.Errorf("client: %v", c)
	}
	for _, p := range []string{"/api/clients/default", "/api/clients/nope", "/api/clients/default/proxies", "/api/clients/nope/credentials"} {
		if r := e.do("GET", p, strangerTok, nil); r.status != 404 || r.body["code"] != "not-found" {
			t.Errorf("%s as non-member: %d %s", p, r.status, r.raw)
		}
	}
	// Instance admins see a foreign client's resources only as members.
	if r := e.do("GET", "/api/clients/acme/proxies", adminToken, nil); r.status != 404 {
		t.Errorf("admin on foreign client resources: %d", r.status)
	}
}

func TestUsersAndTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	u := e.must(200, "GET", "/api/users/me", nil).obj("user")
	cl, _ := u["userClients"].([]any)
	if u["userName"] != "admin" || u["userInstanceAdmin"] != true || len(cl) != 1 ||
		cl[0].(map[string]any)["clientId"] != "default" || cl[0].(map[string]any)["roles"].([]any)[0] != "owner" {
		t.Errorf("me: %v", u)
	}
	r := e.must(201, "POST", "/api/users/me/tokens", map[string]any{"tokenName": "ci", "clientId": "ignored"})
	tok := r.obj("token")
	value, _ := tok["token"].(string)
	if !strings.HasPrefix(value, "u-") || len(value) < 40 || tok["tokenHint"] != value[len(value)-4:] {
		t.Fatalf("token create: %s", r.raw)
	}
	if r := e.do("GET", "/api/users/me", value, nil); r.status != 200 {
		t.Fatalf("new token does not work: %d", r.status)
	}
	r = e.must(200, "GET", "/api/users/me/tokens", nil)
	if strings.Contains(r.raw, value) || len(r.items("tokens")) != 2 {
		t.Errorf("token list leaks or misses: %s", r.raw)
	}
	for _, it := range r.items("tokens") {
		if it["tokenName"] == "bootstrap" && it["tokenLastUsedAt"] == nil {
			t.Errorf("last used not recorded: %v", it)
		}
	}
	bad := e.do("POST", "/api/users/me/tokens", adminToken, map[string]any{"tokenName": 5, "x": 1})
	if bad.status != 400 || !bad.hasField("tokenName") || !bad.hasField("x") {
		t.Errorf("bad token input: %s", bad.raw)
	}
	e.must(200, "DELETE", "/api/users/me/tokens/"+tok["tokenId"].(string), nil)
	if r := e.do("GET", "/api/users/me", value, nil); r.status != 401 {
		t.Errorf("revoked token: %d", r.status)
	}
	e.must(404, "DELETE", "/api/users/me/tokens/"+tok["tokenId"].(string), nil)

	aliceID, aliceTok := e.addUser("alice", "acme", "user")
	adminID := u["userId"].(string)
	if r := e.do("GET", "/api/users/"+adminID+"/tokens", aliceTok, nil); r.status != 403 {
		t.Errorf("user reading another's tokens: %d", r.status)
	}
	r = e.must(200, "GET", "/api/users/"+aliceID+"/tokens", nil)
	if len(r.items("tokens")) != 1 {
		t.Errorf("admin lists alice's tokens: %s", r.raw)
	}
	e.must(201, "POST", "/api/users/"+aliceID+"/tokens", map[string]any{"tokenName": "by-admin"})
	e.must(404, "GET", "/api/users/usr_nope/tokens", nil)
}

func TestBodyDecoding(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	cases := []struct {
		name, body string
		status     int
		field, msg string
	}{
		{"invalid json", `{"credentialName": }`, 400, "", "Invalid JSON at byte"},
		{"truncated", `{"credentialName": "x"`, 400, "", "Invalid JSON"},
		{"array", `[1,2]`, 400, "", "must be a JSON object"},
		{"string", `"x"`, 400, "", "must be a JSON object"},
		{"unknown field", `{"credentialName":"x","bogus":1}`, 400, "bogus", "bogus"},
		{"wrong type", `{"credentialName":5}`, 400, "credentialName", "must be a string"},
		{"wrong type object", `{"credentialSecret":"k"}`, 400, "credentialSecret", "must be an object"},
		{"wrong time", `{"credentialExpiresAt":"tomorrow"}`, 400, "credentialExpiresAt", "RFC 3339"},
		{"read-only", `{"credentialId":"cred_x"}`, 400, "credentialId", "read-only"},
		{"too large", `{"credentialName":"` + strings.Repeat("x", 1<<20) + `"}`, 413, "", "larger than"},
	}
	for _, c := range cases {
		r := e.do("POST", credPath, adminToken, c.body)
		if r.status != c.status || !strings.Contains(r.raw, c.msg) || (c.field != "" && !r.hasField(c.field)) {
			t.Errorf("%s: %d %s", c.name, r.status, r.raw)
		}
	}
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	r := e.do("GET", "/api/users/me", adminToken, nil)
	if r.status != 500 || r.body["message"] != "internal error" || r.body["code"] != "internal" {
		t.Errorf("closed store: %d %s", r.status, r.raw)
	}
	e.logMu.Lock()
	logged := e.logs.String()
	e.logMu.Unlock()
	if !strings.Contains(logged, "request_id="+r.header.Get("X-Request-Id")) {
		t.Errorf("cause not logged with request id: %s", logged)
	}
}
