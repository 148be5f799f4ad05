package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/keyway-dev/keyway/internal/api"
	"github.com/keyway-dev/keyway/internal/async"
	"github.com/keyway-dev/keyway/internal/egress"
	"github.com/keyway-dev/keyway/internal/id"
	"github.com/keyway-dev/keyway/internal/limits"
	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/store/sqlite"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const adminToken = "u-admin-token-for-tests-0123456789"

// fakeTester records connection tests.
type fakeTester struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeTester) TestTarget(_ context.Context, t store.Target, c store.Credential) (service.TestResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, t.ID+"/"+c.ID)
	return service.TestResult{Status: 200, LatencyMs: 12.5, Code: "proxy-access-granted", Message: "OK"}, nil
}

// env is one API server on a fresh SQLite database.
type env struct {
	t       *testing.T
	srv     *httptest.Server
	svc     *service.Service
	st      store.Store
	changed atomic.Int64
	// skew is added to the service clock, so tests can travel in time.
	skew   atomic.Int64
	tester *fakeTester
	logs   *bytes.Buffer
	logMu  *sync.Mutex
}

type syncWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (s syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func newEnv(t *testing.T, withTester bool) *env {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "keyway.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	kr, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, logs: &bytes.Buffer{}, logMu: &sync.Mutex{}}
	logger := slog.New(slog.NewTextHandler(syncWriter{e.logMu, e.logs}, nil))
	deps := service.Deps{
		Store: st, Keyring: kr, URLCheck: egress.Policy{}, Logger: logger,
		Regions: []service.Region{
			{ID: "local", Name: "Local", PublicURL: "http://localhost:8080/"},
			{ID: "eu", Name: "Europe", Latitude: 50.1, Longitude: 8.7, PublicURL: "https://eu.example.com"},
		},
		Changed:  func(context.Context) error { e.changed.Add(1); return nil },
		Now:      func() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) },
		Password: service.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1},
		// The queue is never started: the API only reads, cancels and
		// replays through it.
		Async: async.New(async.Deps{Store: st}),
		Usage: limits.NewLocal(limits.LocalOptions{}),
	}
	if withTester {
		e.tester = &fakeTester{}
		deps.Tester = e.tester
	}
	e.svc = service.New(deps)
	if _, err := e.svc.Bootstrap(ctx, service.BootstrapParams{Token: adminToken, Password: "admin-password"}); err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(api.New(e.svc, logger, api.Options{Now: deps.Now}))
	t.Cleanup(e.srv.Close)
	return e
}

// resp is a decoded answer.
type resp struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

// do sends a request; body may be nil, a string (sent as is) or a value
// encoded as JSON.
func (e *env) do(method, path, token string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if len(raw) > 0 && method != http.MethodHead {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			e.t.Fatalf("%s %s: answer is not a JSON object: %v: %s", method, path, err, raw)
		}
	}
	return out
}

// must sends a request and fails unless the status is want.
func (e *env) must(want int, method, path string, body any) resp {
	e.t.Helper()
	r := e.do(method, path, adminToken, body)
	if r.status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.raw)
	}
	return r
}

// obj returns the object under key of an answer.
func (r resp) obj(key string) map[string]any {
	m, _ := r.body[key].(map[string]any)
	return m
}

func (r resp) items(key string) []map[string]any {
	var out []map[string]any
	for _, v := range r.body[key].([]any) {
		out = append(out, v.(map[string]any))
	}
	return out
}

// fields lists the field names of an error answer.
func (r resp) fields() []string {
	var out []string
	fs, _ := r.body["fields"].([]any)
	for _, f := range fs {
		out = append(out, f.(map[string]any)["field"].(string))
	}
	return out
}

func (r resp) hasField(name string) bool {
	for _, f := range r.fields() {
		if f == name {
			return true
		}
	}
	return false
}

// addUser creates a user with the given roles in clientID (creating the
// client when missing) and returns a token for them.
func (e *env) addUser(name, clientID string, roles ...string) (string, string) {
	e.t.Helper()
	ctx := e.t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	if _, err := e.st.ClientGet(ctx, clientID); err != nil {
		if err := e.st.ClientCreate(ctx, store.Client{ID: clientID, Name: clientID, CreatedAt: now, UpdatedAt: now}); err != nil {
			e.t.Fatal(err)
		}
	}
	u := store.User{ID: id.New(id.User), Name: name, CreatedAt: now, UpdatedAt: now, PasswordChangedAt: now}
	if err := e.st.UserCreate(ctx, u); err != nil {
		e.t.Fatal(err)
	}
	if len(roles) > 0 {
		if err := e.st.MembershipPut(ctx, store.Membership{ClientID: clientID, UserID: u.ID, Roles: roles, CreatedAt: now}); err != nil {
			e.t.Fatal(err)
		}
	}
	admin, err := e.svc.Authenticate(ctx, adminToken)
	if err != nil {
		e.t.Fatal(err)
	}
	tc, err := e.svc.TokenCreate(ctx, admin, u.ID, service.TokenParams{Name: service.Some("test")})
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID, tc.Value
}

const (
	credPath   = "/api/clients/default/credentials"
	targetPath = "/api/clients/default/targets"
	proxyPath  = "/api/clients/default/proxies"
)

// fixture creates a proxy credential, a target credential and a target in
// region and returns their ids.
func (e *env) fixture(region, name string) (proxyCred, targetCred, target string) {
	e.t.Helper()
	pc := e.must(201, "POST", credPath, map[string]any{"credentialName": name + "-in", "credentialType": "proxy",
		"credentialAuthType": "apiKey", "credentialRegion": region})
	tc := e.must(201, "POST", credPath, map[string]any{"credentialName": name + "-out", "credentialType": "target",
		"credentialAuthType": "bearer", "credentialRegion": region, "credentialSecret": map[string]any{"token": "upstream-token-" + name}})
	tg := e.must(201, "POST", targetPath, map[string]any{"targetName": name, "targetBaseURL": "https://api.example.com/v1/",
		"targetRegion": region})
	return pc.obj("credential")["credentialId"].(string), tc.obj("credential")["credentialId"].(string), tg.obj("target")["targetId"].(string)
}

func (e *env) proxy(name, region, pc, tc, tg string) string {
	e.t.Helper()
	r := e.must(201, "POST", proxyPath, map[string]any{"proxyName": name, "proxyRegion": region,
		"proxyProxyCredentialId": pc, "proxyTargetCredentialId": tc, "proxyTargetId": tg})
	return r.obj("proxy")["proxyId"].(string)
}
