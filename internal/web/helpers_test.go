package web_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/store/sqlite"
	"github.com/keyway-dev/keyway/internal/web"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const adminPassword = "admin-password-1"

// fakeTester answers every connection test with a fixed result.
type fakeTester struct {
	mu    sync.Mutex
	calls int
}

func (f *fakeTester) TestTarget(context.Context, store.Target, store.Credential) (service.TestResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return service.TestResult{Status: 204, LatencyMs: 37.4, Code: "proxy-access-granted", Message: "Target answered 204"}, nil
}

// env is a dashboard on a fresh SQLite database with the bootstrap admin.
type env struct {
	t     *testing.T
	dash  *web.Dashboard
	srv   *httptest.Server
	svc   *service.Service
	st    store.Store
	admin service.Actor
	skew  *atomic.Int64
	// sprayNames are users for throttle tests (sprayUsers).
	sprayNames []string
}

// newEnv starts the dashboard; with, when given, adjusts the service's
// dependencies (e.g. the OAuth2 flow).
func newEnv(t *testing.T, secure bool, with ...func(*service.Deps)) *env {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	keys, err := seal.New(bytes.Repeat([]byte{3}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	skew := &atomic.Int64{}
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	deps := service.Deps{Store: st, Keyring: keys, Now: now, Tester: &fakeTester{},
		Regions: []service.Region{
			{ID: "local", Name: "Local", PublicURL: "http://localhost:8080"},
			{ID: "eu", Name: "Frankfurt", Latitude: 50.1, Longitude: 8.7, PublicURL: "https://eu.example.com"},
		},
		Password: service.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}}
	for _, f := range with {
		f(&deps)
	}
	svc := service.New(deps)
	res, err := svc.Bootstrap(ctx, service.BootstrapParams{Token: "u-web-test-token-0123456789", Password: adminPassword})
	if err != nil || !res.Created {
		t.Fatalf("bootstrap: %v", err)
	}
	admin, err := svc.Authenticate(ctx, "u-web-test-token-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	dash, err := web.New(web.Deps{Service: svc, Keyring: keys, Now: now, SecureCookies: secure})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(dash)
	t.Cleanup(srv.Close)
	return &env{t: t, dash: dash, srv: srv, svc: svc, st: st, admin: admin, skew: skew}
}

// user is a browser: a cookie jar that does not follow redirects.
type user struct {
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) browser() *user {
	jar, _ := cookiejar.New(nil)
	return &user{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// page is an answer with its body read.
type page struct {
	status int
	header http.Header
	body   string
}

func (p page) location() string { return p.header.Get("Location") }

var csrfPattern = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (u *user) do(req *http.Request) page {
	u.e.t.Helper()
	resp, err := u.c.Do(req)
	if err != nil {
		u.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	p := page{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if m := csrfPattern.FindStringSubmatch(p.body); m != nil {
		u.csrf = m[1]
	}
	return p
}

func (u *user) get(path string) page {
	u.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u.e.srv.URL+path, nil)
	return u.do(req)
}

// post sends a form with the CSRF token last seen (unless the form has one).
func (u *user) post(path string, form url.Values) page {
	u.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", u.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, u.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return u.do(req)
}

// postJSON posts a form as the dashboard's script does.
func (u *user) postJSON(path string, form url.Values) page {
	u.e.t.Helper()
	form.Set("csrf", u.csrf)
	req, _ := http.NewRequest(http.MethodPost, u.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	return u.do(req)
}

// signIn logs in as admin and returns the signed-in browser.
func (e *env) signIn() *user {
	e.t.Helper()
	u := e.browser()
	u.get("/login")
	p := u.post("/login", url.Values{"username": {"admin"}, "password": {adminPassword}})
	if p.status != http.StatusSeeOther || p.location() != "/proxies" {
		e.t.Fatalf("sign in: %d %s\n%s", p.status, p.location(), p.body)
	}
	u.get("/proxies") // picks up the session's CSRF token
	return u
}

// fixture is one complete proxy in region "local".
type fixture struct {
	proxy            service.ProxyView
	proxyCred        store.Credential
	target           store.Target
	targetCred       store.Credential
	generatedCallKey string
}

func (e *env) makeProxy(actor service.Actor, clientID, name string) fixture {
	e.t.Helper()
	ctx := e.t.Context()
	var f fixture
	res, err := e.svc.CredentialCreate(ctx, actor, clientID, service.CredentialParams{Name: service.Some(name + " caller"),
		Type: service.Some("proxy"), AuthType: service.Some("apiKey"), Region: service.Some("local")})
	if err != nil {
		e.t.Fatal(err)
	}
	f.proxyCred, f.generatedCallKey = res.Credential, res.GeneratedSecret
	res, err = e.svc.CredentialCreate(ctx, actor, clientID, service.CredentialParams{Name: service.Some(name + " vendor key"),
		Type: service.Some("target"), AuthType: service.Some("bearer"), Region: service.Some("local"),
		Secret: credential.Input{"token": []byte(`"vendor-token-secret"`)}})
	if err != nil {
		e.t.Fatal(err)
	}
	f.targetCred = res.Credential
	f.target, err = e.svc.TargetCreate(ctx, actor, clientID, service.TargetParams{Name: service.Some(name + " api"),
		BaseURL: service.Some("https://api." + name + ".example.com"), Region: service.Some("local")})
	if err != nil {
		e.t.Fatal(err)
	}
	f.proxy, err = e.svc.ProxyCreate(ctx, actor, clientID, service.ProxyParams{Name: service.Some(name),
		ProxyCredentialID: service.Some(f.proxyCred.ID), TargetID: service.Some(f.target.ID), TargetCredentialID: service.Some(f.targetCred.ID)})
	if err != nil {
		e.t.Fatal(err)
	}
	return f
}

// otherClient makes a client the admin is not a member of, owned by
// another user, with one proxy.
func (e *env) otherClient() fixture {
	e.t.Helper()
	ctx := e.t.Context()
	now := time.Now().UTC()
	if err := e.st.ClientCreate(ctx, store.Client{ID: "other", Name: "Other Co", CreatedAt: now, UpdatedAt: now}); err != nil {
		e.t.Fatal(err)
	}
	hash, _ := service.HashPassword("other-password", service.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1})
	u := store.User{ID: "usr_other", Name: "olga", PasswordHash: hash, PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now}
	if err := e.st.UserCreate(ctx, u); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.MembershipPut(ctx, store.Membership{ClientID: "other", UserID: u.ID, Roles: []string{service.RoleOwner}, CreatedAt: now}); err != nil {
		e.t.Fatal(err)
	}
	return e.makeProxy(service.Actor{User: u}, "other", "foreign")
}

func wantStatus(t *testing.T, p page, status int) {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d\n%s", p.status, status, p.body)
	}
}

func wantBody(t *testing.T, p page, parts ...string) {
	t.Helper()
	for _, s := range parts {
		if !strings.Contains(p.body, s) {
			t.Fatalf("page lacks %q:\n%s", s, p.body)
		}
	}
}

func wantNotBody(t *testing.T, p page, parts ...string) {
	t.Helper()
	for _, s := range parts {
		if strings.Contains(p.body, s) {
			t.Fatalf("page shows %q", s)
		}
	}
}

func mustUser(t *testing.T, e *env, id string) store.User {
	t.Helper()
	u, err := e.st.UserGet(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func membership(clientID, userID string) store.Membership {
	return store.Membership{ClientID: clientID, UserID: userID, Roles: []string{service.RoleUser}, CreatedAt: time.Now().UTC()}
}
