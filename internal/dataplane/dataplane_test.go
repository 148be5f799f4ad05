package dataplane

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/auth"
	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/egress"
	"github.com/keyway-dev/keyway/internal/inject"
	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/snapshot"
	"github.com/keyway-dev/keyway/internal/store"
)

// fixture is a data plane in front of a real upstream, configured through
// the same credential parsing and sealing the Core API uses.
type fixture struct {
	t        *testing.T
	keyring  *seal.Keyring
	data     store.SnapshotData
	mgr      *snapshot.Manager
	srv      *httptest.Server
	upstream *httptest.Server
	policy   egress.Policy
	opts     Options
}

type memLoader struct {
	mu   sync.Mutex
	data store.SnapshotData
}

func (m *memLoader) SnapshotLoad(context.Context) (store.SnapshotData, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.data, nil
}

func (m *memLoader) ChangeVersion(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.data.Version, nil
}

func newFixture(t *testing.T, upstream http.Handler) *fixture {
	t.Helper()
	k, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, keyring: k, policy: egress.Policy{AllowPrivateNetworks: true}}
	if upstream != nil {
		f.upstream = httptest.NewServer(upstream)
		t.Cleanup(f.upstream.Close)
	}
	return f
}

func (f *fixture) credential(id, side, typ, secret string) {
	f.t.Helper()
	var in credential.Input
	if err := json.Unmarshal([]byte(secret), &in); err != nil {
		f.t.Fatal(err)
	}
	p, errs := credential.Parse(side, typ, in, func() string { return "generated" })
	if errs != nil {
		f.t.Fatalf("credential %s: %v", id, errs)
	}
	cfg, _ := json.Marshal(p.Config)
	c := store.Credential{ID: id, Type: side, AuthType: typ, Region: "local", Config: cfg}
	if p.HashInput != "" {
		c.SecretHash = f.keyring.Hash(p.HashInput)
	}
	if p.Sealed {
		sec, _ := json.Marshal(p.Secret)
		c.SecretSealed = f.keyring.Seal(sec, "credential:"+id)
	}
	f.data.Credentials = append(f.data.Credentials, c)
}

func (f *fixture) target(id, baseURL string, mod func(*store.Target)) {
	t := store.Target{ID: id, BaseURL: baseURL, Region: "local", TimeoutSeconds: 5, IdleTimeoutSeconds: 5, MaxResponseBytes: 6 << 20}
	if mod != nil {
		mod(&t)
	}
	f.data.Targets = append(f.data.Targets, t)
}

func (f *fixture) proxy(id, callerID, targetID, targetCredID string, mod func(*store.Proxy)) {
	p := store.Proxy{ID: id, Active: true, Region: "local", ProxyCredentialID: callerID, TargetID: targetID, TargetCredentialID: targetCredID}
	if mod != nil {
		mod(&p)
	}
	f.data.Proxies = append(f.data.Proxies, p)
}

// standard sets up proxy "prx" with caller key "caller-key-1" and target
// apiKey "target-key" in X-API-Key.
func (f *fixture) standard(mod func(*store.Target)) {
	f.credential("cp", "proxy", "apiKey", `{"key":"caller-key-1"}`)
	f.credential("ct", "target", "apiKey", `{"key":"target-key"}`)
	f.target("t1", f.upstream.URL, mod)
	f.proxy("prx", "cp", "t1", "ct", nil)
}

func (f *fixture) start() {
	f.t.Helper()
	f.mgr = snapshot.New(snapshot.Deps{
		Loader: &memLoader{data: f.data},
		Opener: f.keyring,
		Hasher: auth.NewHasher(f.keyring.NewMAC),
		Transports: func(o snapshot.TransportOptions) (http.RoundTripper, error) {
			return egress.NewH1Transport(f.policy, egress.TransportOptions{ResponseHeaderTimeout: o.ResponseHeaderTimeout, IdleTimeout: o.IdleTimeout, CAPEM: o.CAPEM, ServerName: o.ServerName})
		},
		PollInterval: time.Hour,
		Tokens:       f.tokens(),
		KeySets:      auth.NewKeySets(auth.KeySetOptions{Client: egress.NewClient(f.policy, 5*time.Second)}),
	})
	if err := f.mgr.Start(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(f.mgr.Stop)
	f.srv = httptest.NewServer(New(f.mgr, f.opts))
	f.t.Cleanup(f.srv.Close)
}

func (f *fixture) tokens() *inject.Registry {
	r := inject.NewRegistry(inject.RegistryOptions{Client: egress.NewClient(f.policy, 5*time.Second)})
	f.t.Cleanup(r.Close)
	return r
}

func (f *fixture) do(method, path string, body io.Reader, hdr map[string]string) (*http.Response, string) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		f.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func key(v string) map[string]string { return map[string]string{"Authorization": v} }

func expect(t *testing.T, resp *http.Response, body string, status int, code string) {
	t.Helper()
	if resp.StatusCode != status || resp.Header.Get("Requestrocket-Proxy-Code") != code {
		t.Fatalf("got %d %q (%s), want %d %q; body %s", resp.StatusCode, resp.Header.Get("Requestrocket-Proxy-Code"),
			resp.Header.Get("Requestrocket-Proxy-Message"), status, code, body)
	}
	if resp.Header.Get("Requestrocket-Request-Id") == "" {
		t.Fatal("missing request id header")
	}
}

func TestForwardInjectsAndStrips(t *testing.T) {
	t.Parallel()
	var got *http.Request
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		w.Header().Set("Requestrocket-Proxy-Code", "forged")
		w.Header().Set("X-Upstream", "yes")
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	f.standard(func(t *store.Target) { t.BaseURL += "/base%20dir"; t.Headers = map[string]string{"X-Extra": "1"} })
	f.start()
	resp, body := f.do("GET", "/api/prx/v1/items%20x/a:b?q=1&Authorization=nope2&z=%2F", nil, map[string]string{
		"Authorization":          "Bearer caller-key-1",
		"X-API-Key":              "caller-supplied",
		"Requestrocket-Anything": "x",
		"Connection":             "X-Hop",
		"X-Hop":                  "1",
	})
	// header and query credential together are ambiguous
	expect(t, resp, body, 403, "proxy-access-denied")

	resp, body = f.do("GET", "/api/prx/v1/items%20x/a:b?q=1&z=%2F", nil, map[string]string{
		"Authorization":          "Bearer caller-key-1",
		"X-API-Key":              "caller-supplied",
		"Requestrocket-Anything": "x",
		"Connection":             "X-Hop",
		"X-Hop":                  "1",
	})
	expect(t, resp, body, 200, "proxy-access-granted")
	if body != `{"ok":true}` || resp.Header.Get("X-Upstream") != "yes" {
		t.Fatalf("body %q headers %v", body, resp.Header)
	}
	if got.URL.EscapedPath() != "/base%20dir/v1/items%20x/a:b" || got.URL.RawQuery != "q=1&z=%2F" {
		t.Fatalf("upstream saw %s ? %s", got.URL.EscapedPath(), got.URL.RawQuery)
	}
	if got.Header.Get("X-Api-Key") != "target-key" || got.Header.Get("Authorization") != "" ||
		got.Header.Get("Requestrocket-Anything") != "" || got.Header.Get("X-Hop") != "" || got.Header.Get("X-Extra") != "1" {
		t.Fatalf("upstream headers %v", got.Header)
	}
	if st := resp.Header.Get("Server-Timing"); !strings.Contains(st, "keyway") || !strings.Contains(st, "upstream;dur=") {
		t.Fatalf("Server-Timing %q", st)
	}
}

func TestQueryCredentialIsRemoved(t *testing.T) {
	t.Parallel()
	var query string
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { query = r.URL.RawQuery }))
	f.standard(nil)
	f.start()
	resp, body := f.do("GET", "/api/prx/x?a=1&authorization=caller-key-1&b=%20", nil, nil)
	expect(t, resp, body, 200, "proxy-access-granted")
	if query != "a=1&b=%20" {
		t.Fatalf("upstream query %q", query)
	}
}

func TestAuthenticationFailures(t *testing.T) {
	t.Parallel()
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	f.standard(nil)
	f.proxy("off", "cp", "t1", "ct", func(p *store.Proxy) { p.Active = false })
	f.start()
	cases := []struct {
		path, auth, msg string
	}{
		{"/api/nope/x", "caller-key-1", "Invalid proxy credential"},
		{"/api/prx/x", "", "Missing proxy credential"},
		{"/api/prx/x", "wrong-key-123", "Invalid proxy credential"},
		{"/api/prx/x", "Basic !!!notbase64", "Invalid proxy credential"},
		{"/api/prx/x", strings.Repeat("k", 9000), "Invalid proxy credential"},
		{"/api/off/x", "wrong-key-123", "Invalid proxy credential"},
		{"/api/off/x", "caller-key-1", "Proxy is inactive"},
	}
	for _, c := range cases {
		hdr := map[string]string{}
		if c.auth != "" {
			hdr["Authorization"] = c.auth
		}
		resp, body := f.do("GET", c.path, nil, hdr)
		expect(t, resp, body, 403, "proxy-access-denied")
		if !strings.HasPrefix(resp.Header.Get("Requestrocket-Proxy-Message"), c.msg) {
			t.Errorf("%s %q: message %q", c.path, c.auth, resp.Header.Get("Requestrocket-Proxy-Message"))
		}
		var e map[string]string
		if err := json.Unmarshal([]byte(body), &e); err != nil || e["code"] != "proxy-access-denied" || e["requestId"] == "" {
			t.Errorf("body %s", body)
		}
	}
}

func TestCallerAuthTypes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Header.Get("Authorization"))
	}))
	f.credential("cb", "proxy", "basicAuth", `{"username":"svc","password":"caller-pass"}`)
	f.credential("cbe", "proxy", "bearer", `{"token":"caller-token","prefix":"Token "}`)
	f.credential("cj", "proxy", "jwt", `{"token":"aaa.bbb.ccc"}`)
	f.credential("tb", "target", "bearer", `{"token":"up-token"}`)
	f.credential("tba", "target", "basicAuth", `{"username":"u","password":"p"}`)
	f.target("t1", f.upstream.URL, nil)
	f.proxy("pb", "cb", "t1", "tb", nil)
	f.proxy("pbe", "cbe", "t1", "tba", nil)
	f.proxy("pj", "cj", "t1", "tb", nil)
	f.start()
	ok := []struct{ path, auth, upstream string }{
		{"/api/pb/", "Basic c3ZjOmNhbGxlci1wYXNz", "Bearer up-token"},
		{"/api/pbe/", "Token caller-token", "Basic dTpw"},
		{"/api/pj/", "aaa.bbb.ccc", "Bearer up-token"},
		{"/api/pj/", "Bearer aaa.bbb.ccc", "Bearer up-token"},
	}
	for _, c := range ok {
		resp, body := f.do("GET", c.path, nil, key(c.auth))
		expect(t, resp, body, 200, "proxy-access-granted")
		if body != c.upstream {
			t.Errorf("%s: upstream Authorization %q, want %q", c.path, body, c.upstream)
		}
	}
	for _, c := range []struct{ path, auth string }{
		{"/api/pb/", "Basic c3ZjOndyb25n"}, // svc:wrong
		{"/api/pbe/", "Bearer caller-token-x"},
	} {
		resp, body := f.do("GET", c.path, nil, key(c.auth))
		expect(t, resp, body, 403, "proxy-access-denied")
	}
}

func TestBadPaths(t *testing.T) {
	t.Parallel()
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	f.standard(nil)
	f.start()
	for _, p := range []string{"/api/prx/a/../b", "/api/prx/%2e%2E/b", "/api/prx/a/%2Fb", "/api/prx/a%5cb", "/api/prx/a//b", "/api/prx/a%00", "/api/prx/a/./b"} {
		req, _ := http.NewRequest("GET", f.srv.URL, nil)
		req.URL.Opaque = p // send the path exactly as written
		req.Header.Set("Authorization", "caller-key-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || resp.Header.Get("Requestrocket-Proxy-Code") != "bad-request" {
			t.Errorf("%s: %d %s", p, resp.StatusCode, b)
		}
	}
}

func TestSizeLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		switch r.URL.Path {
		case "/big":
			w.Header().Set("Content-Length", "2000")
			_, _ = w.Write(make([]byte, 2000))
		case "/stream":
			for range 20 {
				_, _ = w.Write(make([]byte, 200))
				w.(http.Flusher).Flush()
			}
		}
	}))
	f.standard(func(t *store.Target) { t.MaxResponseBytes = 1000 })
	f.opts.MaxRequestBody = 100
	f.start()
	resp, body := f.do("POST", "/api/prx/x", strings.NewReader(strings.Repeat("a", 101)), key("caller-key-1"))
	expect(t, resp, body, 413, "request-too-large")
	// chunked: no Content-Length, the limit trips while streaming
	resp, body = f.do("POST", "/api/prx/x", io.MultiReader(strings.NewReader(strings.Repeat("a", 150))), key("caller-key-1"))
	expect(t, resp, body, 413, "request-too-large")
	resp, body = f.do("POST", "/api/prx/x", strings.NewReader("small"), key("caller-key-1"))
	expect(t, resp, body, 200, "proxy-access-granted")
	resp, body = f.do("GET", "/api/prx/big", nil, key("caller-key-1"))
	expect(t, resp, body, 413, "response-too-large")
	// a stream that passes the limit after the headers is cut off
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/prx/stream", nil)
	req.Header.Set("Authorization", "caller-key-1")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err == nil || len(b) > 1000 {
		t.Fatalf("stream not cut: %d bytes, err %v", len(b), err)
	}
}

func TestUpstreamFailures(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer close(release)
	f.standard(func(t *store.Target) { t.TimeoutSeconds = 1 })
	// a closed port: connection refused
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + l.Addr().String()
	l.Close()
	f.target("tdown", closed, nil)
	f.proxy("down", "cp", "tdown", "ct", nil)
	// an upstream that answers garbage
	garbage, _ := net.Listen("tcp", "127.0.0.1:0")
	defer garbage.Close()
	go func() {
		for {
			c, err := garbage.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("this is not http\r\n\r\n"))
			c.Close()
		}
	}()
	f.target("tgarbage", "http://"+garbage.Addr().String(), nil)
	f.proxy("garbage", "cp", "tgarbage", "ct", nil)
	f.start()
	resp, body := f.do("GET", "/api/prx/slow", nil, key("caller-key-1"))
	expect(t, resp, body, 504, "target-timeout")
	resp, body = f.do("GET", "/api/down/x", nil, key("caller-key-1"))
	expect(t, resp, body, 502, "target-unreachable")
	resp, body = f.do("GET", "/api/garbage/x", nil, key("caller-key-1"))
	expect(t, resp, body, 502, "target-unreachable")
}

func TestEgressGuardBlocksLoopbackByDefault(t *testing.T) {
	t.Parallel()
	hit := false
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit = true }))
	f.policy = egress.Policy{}
	f.standard(nil)
	f.start()
	resp, body := f.do("GET", "/api/prx/x", nil, key("caller-key-1"))
	expect(t, resp, body, 502, "target-unreachable")
	if hit || !strings.Contains(resp.Header.Get("Requestrocket-Proxy-Message"), "egress") {
		t.Fatalf("guard did not block: hit=%v message %q", hit, resp.Header.Get("Requestrocket-Proxy-Message"))
	}
}

func TestStreamingIsFlushed(t *testing.T) {
	t.Parallel()
	next := make(chan struct{})
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-next:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "data: two\n\n")
	}))
	f.standard(nil)
	f.start()
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/prx/events", nil)
	req.Header.Set("Authorization", "caller-key-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "data: one\n" {
		t.Fatalf("first event %q %v", line, err)
	}
	close(next) // the second event is only sent after the first arrived
	rest, _ := io.ReadAll(br)
	if !strings.Contains(string(rest), "data: two") {
		t.Fatalf("rest %q", rest)
	}
}

func TestRegionAndCORS(t *testing.T) {
	t.Parallel()
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	f.standard(nil)
	f.credential("cpe", "proxy", "apiKey", `{"key":"caller-key-eu"}`)
	f.credential("cte", "target", "none", `{}`)
	f.target("te", f.upstream.URL, func(t *store.Target) { t.Region = "eu" })
	f.proxy("eu", "cpe", "te", "cte", func(p *store.Proxy) { p.Region = "eu" })
	f.proxy("web", "cp", "t1", "ct", func(p *store.Proxy) { p.CorsOrigins = []string{"https://app.example"} })
	f.opts.ServeRegions = []string{"local"}
	f.start()
	resp, body := f.do("GET", "/api/eu/x", nil, key("caller-key-eu"))
	expect(t, resp, body, 421, "proxy-access-denied")
	if !strings.Contains(resp.Header.Get("Requestrocket-Proxy-Message"), "eu") {
		t.Fatalf("message %q", resp.Header.Get("Requestrocket-Proxy-Message"))
	}
	pre := map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
	resp, _ = f.do("OPTIONS", "/api/web/x", nil, pre)
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatalf("preflight %d %v", resp.StatusCode, resp.Header)
	}
	pre["Origin"] = "https://evil.example"
	resp, _ = f.do("OPTIONS", "/api/web/x", nil, pre)
	if resp.StatusCode != 403 {
		t.Fatalf("preflight from other origin: %d", resp.StatusCode)
	}
	resp, body = f.do("GET", "/api/web/x", nil, map[string]string{"Authorization": "caller-key-1", "Origin": "https://app.example"})
	expect(t, resp, body, 200, "proxy-access-granted")
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatal("no CORS header on the answer")
	}
}

func TestHealthAndUnknownRoutes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.start()
	for path, status := range map[string]int{"/healthz": 200, "/readyz": 200, "/other": 404} {
		resp, _ := f.do("GET", path, nil, nil)
		if resp.StatusCode != status {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
}

func TestThrottleSlowsRepeatedFailures(t *testing.T) {
	t.Parallel()
	now := time.Unix(0, 0)
	th := newThrottle(func() time.Time { return now })
	ip := netipMust("203.0.113.9")
	for i := range freeFailures {
		if d := th.failed(ip); d != 0 {
			t.Fatalf("failure %d delayed %v", i, d)
		}
	}
	if d := th.failed(ip); d != baseDelay {
		t.Fatalf("first delayed failure: %v", d)
	}
	for range 30 {
		th.failed(ip)
	}
	if d := th.failed(ip); d != maxDelay {
		t.Fatalf("delay not capped: %v", d)
	}
	now = now.Add(2 * throttleWindow)
	if d := th.failed(ip); d != 0 {
		t.Fatalf("window did not reset: %v", d)
	}
}

type noSnapshot struct{}

func (noSnapshot) Current() *snapshot.Snapshot { return nil }

func TestUnavailableWithoutSnapshotOrWithBrokenCredential(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(New(noSnapshot{}, Options{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/prx/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Requestrocket-Proxy-Code") != "proxy-unavailable" {
		t.Fatalf("no snapshot: %d %q", resp.StatusCode, resp.Header.Get("Requestrocket-Proxy-Code"))
	}
	if r, _ := http.Get(srv.URL + "/readyz"); r.StatusCode != 503 {
		t.Fatalf("readyz without snapshot: %d", r.StatusCode)
	}

	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	f.standard(nil)
	// the target credential's sealed secret belongs to another row: it
	// cannot be opened, so the proxy cannot serve
	f.data.Credentials[1].SecretSealed = f.keyring.Seal([]byte(`{"key":"x"}`), "credential:other")
	f.start()
	resp2, body := f.do("GET", "/api/prx/x", nil, key("caller-key-1"))
	expect(t, resp2, body, 503, "proxy-unavailable")
	resp2, body = f.do("GET", "/api/prx/x", nil, key("wrong-key-1"))
	expect(t, resp2, body, 403, "proxy-access-denied")
}
