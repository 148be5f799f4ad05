package dataplane

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/auth"
	"github.com/keyway-dev/keyway/internal/egress"
	"github.com/keyway-dev/keyway/internal/limits"
	"github.com/keyway-dev/keyway/internal/snapshot"
	"github.com/keyway-dev/keyway/internal/store"
)

// seen records what the upstream received.
type seen struct {
	mu    sync.Mutex
	calls []string
	body  []byte
	enc   string
}

func (s *seen) record(r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, r.Method+" "+r.URL.Path)
	s.body, s.enc = b, r.Header.Get("Accept-Encoding")
}

func (s *seen) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

func rule(id string, owner store.Owner, effect string, mod func(*store.Rule)) store.Rule {
	r := store.Rule{ID: id, Owner: owner, Effect: effect}
	if mod != nil {
		mod(&r)
	}
	return r
}

var proxyOwner = store.Owner{Kind: store.OwnerProxy, ID: "prx"}

func decodeBody(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return m
}

// TestAgentAllowList is the docs' example: an agent may only GET
// /v1/models and POST /v1/chat/completions.
func TestAgentAllowList(t *testing.T) {
	t.Parallel()
	up := &seen{}
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { up.record(r) }))
	f.standard(nil)
	f.data.Proxies[0].DefaultRuleEffect = "deny"
	f.data.Rules = []store.Rule{
		rule("rule_models", proxyOwner, "allow", func(r *store.Rule) { r.Methods, r.PathPattern = []string{"GET"}, "^/v1/models$" }),
		rule("rule_chat", proxyOwner, "allow", func(r *store.Rule) { r.Methods, r.PathPattern = []string{"POST"}, "^/v1/chat/completions$" }),
		rule("rule_no_admin_key", store.Owner{Kind: store.OwnerCredential, ID: "cp"}, "deny", func(r *store.Rule) {
			r.HeaderChecks = []store.RuleCheck{{NamePattern: "^x-admin$"}}
		}),
	}
	f.start()
	resp, body := f.do("GET", "/api/prx/v1/models", nil, key("caller-key-1"))
	expect(t, resp, body, 200, "proxy-access-granted")
	resp, body = f.do("POST", "/api/prx/v1/chat/completions", strings.NewReader(`{}`), key("caller-key-1"))
	expect(t, resp, body, 200, "proxy-access-granted")

	resp, body = f.do("DELETE", "/api/prx/v1/models", nil, key("caller-key-1"))
	expect(t, resp, body, 403, "proxy-access-denied")
	got := decodeBody(t, body)
	if got["scope"] != "proxy" || got["ruleId"] != nil || got["requestId"] == "" || got["code"] != "proxy-access-denied" ||
		got["message"] != "Denied by default: no rule allows this request (proxy scope)" {
		t.Errorf("default deny body %v", got)
	}
	resp, body = f.do("GET", "/api/prx/v1/models", nil, map[string]string{"Authorization": "caller-key-1", "X-Admin": "1"})
	expect(t, resp, body, 403, "proxy-access-denied")
	got = decodeBody(t, body)
	if got["scope"] != "proxyCredential" || got["ruleId"] != "rule_no_admin_key" ||
		resp.Header.Get("Requestrocket-Proxy-Message") != "Denied by rule rule_no_admin_key (proxy credential scope)" {
		t.Errorf("rule deny: %v / %q", got, resp.Header.Get("Requestrocket-Proxy-Message"))
	}
	// an escaped spelling of an ordinary character is the same path: rules
	// and the target both see /v1/models
	resp, body = f.do("GET", "/api/prx/v1/model%73", nil, key("caller-key-1"))
	expect(t, resp, body, 200, "proxy-access-granted")
	// anonymous callers are refused before rules run
	resp, body = f.do("GET", "/api/prx/v1/models", nil, nil)
	expect(t, resp, body, 403, "proxy-access-denied")
	if !strings.HasPrefix(resp.Header.Get("Requestrocket-Proxy-Message"), "Missing proxy credential") {
		t.Errorf("message %q", resp.Header.Get("Requestrocket-Proxy-Message"))
	}
	if up.count() != 3 || up.calls[2] != "GET /v1/models" {
		t.Errorf("upstream saw %v", up.calls)
	}
}

func TestBodyRules(t *testing.T) {
	t.Parallel()
	up := &seen{}
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { up.record(r) }))
	f.standard(nil)
	f.data.Rules = []store.Rule{rule("rule_no_gpt4", proxyOwner, "deny", func(r *store.Rule) {
		r.Methods, r.PathPattern = []string{"POST"}, "^/v1/chat/"
		r.BodyChecks = []store.RuleBodyCheck{{Path: "model", ValuePattern: "^gpt-4$"}}
	})}
	f.opts.BodyInspectionBytes = 1000
	f.start()
	resp, body := f.do("POST", "/api/prx/v1/chat/completions", strings.NewReader(`{"model":"gpt-4"}`), key("caller-key-1"))
	expect(t, resp, body, 403, "proxy-access-denied")
	sent := `{"model":"gpt-4o-mini", "messages": [ ] }`
	resp, body = f.do("POST", "/api/prx/v1/chat/completions", strings.NewReader(sent), key("caller-key-1"))
	expect(t, resp, body, 200, "proxy-access-granted")
	if string(up.body) != sent {
		t.Errorf("upstream got %q, want the body replayed exactly", up.body)
	}
	// a chunked body (no Content-Length) is inspected and replayed too
	resp, body = f.do("POST", "/api/prx/v1/chat/completions", io.MultiReader(strings.NewReader(`{"model":`), strings.NewReader(`"gpt-4"}`)), key("caller-key-1"))
	expect(t, resp, body, 403, "proxy-access-denied")
	resp, body = f.do("POST", "/api/prx/v1/chat/completions", io.MultiReader(strings.NewReader(`{"model":`), strings.NewReader(`"o3"}`)), key("caller-key-1"))
	expect(t, resp, body, 200, "proxy-access-granted")
	if string(up.body) != `{"model":"o3"}` {
		t.Errorf("chunked body replayed as %q", up.body)
	}
	// not JSON: the body rule does not match
	resp, body = f.do("POST", "/api/prx/v1/chat/completions", strings.NewReader(`model=gpt-4`), key("caller-key-1"))
	expect(t, resp, body, 200, "proxy-access-granted")
	// over the inspection limit, where a body rule applies: 413
	big := `{"model":"x","pad":"` + strings.Repeat("a", 1000) + `"}`
	resp, body = f.do("POST", "/api/prx/v1/chat/completions", strings.NewReader(big), key("caller-key-1"))
	expect(t, resp, body, 413, "request-too-large")
	resp, body = f.do("POST", "/api/prx/v1/chat/completions", io.MultiReader(strings.NewReader(big)), key("caller-key-1"))
	expect(t, resp, body, 413, "request-too-large")
	// where no body rule applies, big bodies pass untouched
	resp, body = f.do("POST", "/api/prx/v1/files", strings.NewReader(big), key("caller-key-1"))
	expect(t, resp, body, 200, "proxy-access-granted")
	if string(up.body) != big {
		t.Error("big body not forwarded")
	}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	f.standard(nil)
	f.data.Proxies[0].MaxRequestsPerMinute = 5
	f.data.Proxies[0].MaxRequestsPerDay = 1000
	now := time.Date(2025, 3, 4, 5, 6, 50, 0, time.UTC)
	f.opts.Now = func() time.Time { return now }
	counter := limits.NewLocal(limits.LocalOptions{})
	f.opts.Counter = counter
	f.start()
	for i := range 5 {
		resp, body := f.do("GET", "/api/prx/x", nil, key("caller-key-1"))
		expect(t, resp, body, 200, "proxy-access-granted")
		warn := resp.Header.Get("Requestrocket-Proxy-Warning")
		if (i >= 3) != (warn != "") {
			t.Errorf("request %d: warning %q", i+1, warn)
		}
	}
	resp, body := f.do("GET", "/api/prx/x", nil, key("caller-key-1"))
	expect(t, resp, body, 429, "rate-limit-exceeded")
	if resp.Header.Get("Retry-After") != "10" || !strings.Contains(resp.Header.Get("Requestrocket-Proxy-Message"), "5 requests per minute") {
		t.Errorf("Retry-After %q message %q", resp.Header.Get("Retry-After"), resp.Header.Get("Requestrocket-Proxy-Message"))
	}
	if u, _ := counter.Usage(context.Background(), limits.Key{Subject: "proxy:prx", Window: limits.Day}, now); u != 5 {
		t.Errorf("day usage %v: refused requests must not count", u)
	}
	// callers without the credential cannot spend the quota
	resp, body = f.do("GET", "/api/prx/x", nil, key("wrong-key-123"))
	expect(t, resp, body, 403, "proxy-access-denied")
}

func TestMeters(t *testing.T) {
	t.Parallel()
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/json":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Cost", "0.25")
			_, _ = io.WriteString(w, `{"usage":{"total_tokens":40}}`)
		case "/gzstream":
			w.Header().Set("Content-Type", "text/event-stream")
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(gzipped("data: {\"usage\":{\"total_tokens\":1000}}\n\ndata: {\"usage\":{\"total_tokens\":3}}\n\n"))
		case "/stream":
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "data: {\"usage\":{\"total_tokens\":7}}\n\n")
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, "data: {\"usage\":{\"total_tokens\":25}}\n\ndata: [DONE]\n\n")
		}
	}))
	f.standard(nil)
	f.data.Meters = []store.Meter{
		{ID: "mtr_tokens", ProxyID: "prx", Name: "tokens", Type: "response_value", Active: true, Mode: "all",
			Extraction: &store.MeterExtraction{Location: "body", Path: "usage.total_tokens"}, Limits: []store.MeterLimit{{Window: "day", Limit: 100}}},
		{ID: "mtr_cost", ProxyID: "prx", Name: "cost", Type: "response_value", Active: true, Mode: "all",
			Extraction: &store.MeterExtraction{Location: "header", Name: "X-Cost"}},
		{ID: "mtr_posts", ProxyID: "prx", Name: "posts", Type: "request_count", Active: true, Mode: "conditional",
			Predicates: []store.MeterPredicate{{Location: "method", ValuePattern: "^POST$", Effect: "include"}},
			Limits:     []store.MeterLimit{{Window: "hour", Limit: 2}}},
	}
	now := time.Date(2025, 3, 4, 5, 6, 50, 0, time.UTC)
	f.opts.Now = func() time.Time { return now }
	counter := limits.NewLocal(limits.LocalOptions{})
	f.opts.Counter = counter
	f.start()
	usage := func(id string, w limits.Window) float64 {
		u, _ := counter.Usage(context.Background(), limits.Key{Subject: "meter:" + id, Window: w}, now)
		return u
	}
	resp, body := f.do("GET", "/api/prx/json", nil, key("caller-key-1"))
	expect(t, resp, body, 200, "proxy-access-granted")
	if body != `{"usage":{"total_tokens":40}}` || usage("mtr_tokens", limits.Day) != 40 || usage("mtr_cost", limits.Month) != 0.25 {
		t.Fatalf("body %s tokens %v cost %v", body, usage("mtr_tokens", limits.Day), usage("mtr_cost", limits.Month))
	}
	// the stream is passed through and the last event's value counts
	resp, body = f.do("GET", "/api/prx/stream", nil, key("caller-key-1"))
	expect(t, resp, body, 200, "proxy-access-granted")
	if !strings.Contains(body, "[DONE]") || usage("mtr_tokens", limits.Minute) != 65 {
		t.Fatalf("stream: %q tokens %v", body, usage("mtr_tokens", limits.Minute))
	}
	// a gzip stream reaches the caller as sent and is scanned decoded
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/prx/gzstream", nil)
	req.Header.Set("Authorization", "caller-key-1")
	req.Header.Set("Accept-Encoding", "gzip")
	r2, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(r2.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	r2.Body.Close()
	if !strings.Contains(string(plain), `"total_tokens":3`) || usage("mtr_tokens", limits.Hour) != 68 {
		t.Fatalf("gzip stream %q tokens %v", plain, usage("mtr_tokens", limits.Hour))
	}
	counter.Add(limits.Key{Subject: "meter:mtr_tokens", Window: limits.Day}, -3, now)
	resp, body = f.do("GET", "/api/prx/json", nil, key("caller-key-1"))
	expect(t, resp, body, 200, "proxy-access-granted")
	if w := resp.Header.Get("Requestrocket-Proxy-Warning"); w != "" {
		t.Errorf("warning %q at 65 of 100", w)
	}
	counter.Add(limits.Key{Subject: "meter:mtr_tokens", Window: limits.Day}, -20, now) // 85 of 100
	resp, body = f.do("GET", "/api/prx/json", nil, key("caller-key-1"))
	expect(t, resp, body, 200, "proxy-access-granted")
	if w := resp.Header.Get("Requestrocket-Proxy-Warning"); !strings.Contains(w, `85% of meter "tokens" limit per day used`) {
		t.Errorf("warning %q at 85 of 100", w)
	}
	// 125 of 100 used: the limit is checked against the usage so far
	resp, body = f.do("GET", "/api/prx/json", nil, key("caller-key-1"))
	expect(t, resp, body, 429, "meter-limit-exceeded")
	if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra != 18*3600+53*60+10 {
		t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	if usage("mtr_posts", limits.Hour) != 0 {
		t.Error("GETs counted by a POST meter")
	}
}

func TestConditionalMeterCountsOnlyMatches(t *testing.T) {
	t.Parallel()
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	f.standard(nil)
	f.data.Meters = []store.Meter{{ID: "mtr_big", ProxyID: "prx", Name: "big models", Type: "request_count", Active: true, Mode: "conditional",
		Predicates: []store.MeterPredicate{{Location: "body", Path: "model", ValuePattern: "^gpt-4", Effect: "include"},
			{Location: "query", Name: "dry_run", Effect: "exclude"}},
		Limits: []store.MeterLimit{{Window: "minute", Limit: 2}}}}
	counter := limits.NewLocal(limits.LocalOptions{})
	f.opts.Counter = counter
	f.start()
	call := func(path, body string) (*http.Response, string) {
		return f.do("POST", path, strings.NewReader(body), key("caller-key-1"))
	}
	for range 2 {
		resp, body := call("/api/prx/c", `{"model":"gpt-4o"}`)
		expect(t, resp, body, 200, "proxy-access-granted")
	}
	resp, body := call("/api/prx/c", `{"model":"gpt-4o"}`)
	expect(t, resp, body, 429, "meter-limit-exceeded")
	resp, body = call("/api/prx/c", `{"model":"mini"}`)
	expect(t, resp, body, 200, "proxy-access-granted")
	resp, body = call("/api/prx/c?dry_run", `{"model":"gpt-4o"}`)
	expect(t, resp, body, 200, "proxy-access-granted")
}

func gzipped(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	return b.Bytes()
}

func TestFilters(t *testing.T) {
	t.Parallel()
	up := &seen{}
	doc := `{"id":"x1","secret":"s3","user":{"name":"ann","email":"a@x"},"usage":{"total_tokens":3}}`
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up.record(r)
		switch r.URL.Path {
		case "/json":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("ETag", `"abc"`)
			_, _ = io.WriteString(w, doc)
		case "/gzip":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(gzipped(doc))
		case "/bomb":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(gzipped(`{"a":"` + strings.Repeat("z", 5000) + `"}`))
		case "/error":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			_, _ = io.WriteString(w, doc)
		case "/text":
			_, _ = io.WriteString(w, "secret: s3")
		case "/events":
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "data: "+doc+"\n\n")
		case "/brotli":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "br")
			_, _ = io.WriteString(w, "\x0b\x02\x80{}\x03")
		case "/empty":
			w.WriteHeader(204)
		}
	}))
	f.standard(func(t *store.Target) { t.MaxResponseBytes = 2000 })
	f.data.Filters = []store.Filter{
		// target credential first: destroys the secret
		{ID: "flt_1", Owner: store.Owner{Kind: store.OwnerCredential, ID: "ct"}, Action: "destroy", Paths: []string{"secret"}},
		// then the proxy retains id and user (its email is destroyed in the same scope)
		{ID: "flt_2", Owner: proxyOwner, Action: "retain", Paths: []string{"id", "user", "secret"}},
		{ID: "flt_3", Owner: proxyOwner, Action: "destroy", Paths: []string{"user.email"}},
	}
	f.start()
	want := `{"id":"x1","user":{"name":"ann"}}`
	resp, body := f.do("GET", "/api/prx/json", nil, key("caller-key-1"))
	expect(t, resp, body, 200, "proxy-access-granted")
	if body != want || resp.Header.Get("Content-Length") != strconv.Itoa(len(want)) || resp.Header.Get("Etag") != "" {
		t.Errorf("filtered %s (Content-Length %q, ETag %q)", body, resp.Header.Get("Content-Length"), resp.Header.Get("Etag"))
	}
	if up.enc != "gzip" || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("asked the target for %q (the Go client takes gzip), answered %q", up.enc, resp.Header.Get("Content-Encoding"))
	}
	resp, body = f.do("GET", "/api/prx/json", nil, map[string]string{"Authorization": "caller-key-1", "Accept-Encoding": "br"})
	expect(t, resp, body, 200, "proxy-access-granted")
	if up.enc != "identity" || body != want {
		t.Errorf("asked the target for %q, want identity for a caller that does not take gzip", up.enc)
	}
	// a gzip answer is decoded and filtered
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/prx/gzip", nil)
	req.Header.Set("Authorization", "caller-key-1")
	req.Header.Set("Accept-Encoding", "gzip, br")
	r2, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	if string(b2) != want || r2.Header.Get("Content-Encoding") != "" || up.enc != "gzip" {
		t.Errorf("gzip: %q encoding %q asked %q", b2, r2.Header.Get("Content-Encoding"), up.enc)
	}
	// decoded size counts against the limit
	resp, body = f.do("GET", "/api/prx/bomb", nil, key("caller-key-1"))
	expect(t, resp, body, 413, "response-too-large")
	// only 2xx answers are filtered
	resp, body = f.do("GET", "/api/prx/error", nil, key("caller-key-1"))
	expect(t, resp, body, 400, "proxy-access-granted")
	if body != doc {
		t.Errorf("error answer changed: %s", body)
	}
	for path, reason := range map[string]string{"/text": "not JSON", "/events": "text/event-stream", "/brotli": "Content-Encoding br"} {
		resp, body = f.do("GET", "/api/prx"+path, nil, key("caller-key-1"))
		expect(t, resp, body, 422, "response-not-filterable")
		if strings.Contains(body, "s3") || !strings.Contains(resp.Header.Get("Requestrocket-Proxy-Message"), reason) {
			t.Errorf("%s: %q / %s", path, resp.Header.Get("Requestrocket-Proxy-Message"), body)
		}
	}
	resp, body = f.do("GET", "/api/prx/empty", nil, key("caller-key-1"))
	expect(t, resp, body, 204, "proxy-access-granted")
}

// countingLoader counts every store access the data plane makes.
type countingLoader struct {
	memLoader
	calls atomic.Int64
}

func (c *countingLoader) SnapshotLoad(ctx context.Context) (store.SnapshotData, error) {
	c.calls.Add(1)
	return c.memLoader.SnapshotLoad(ctx)
}

func (c *countingLoader) ChangeVersion(ctx context.Context) (int64, error) {
	c.calls.Add(1)
	return c.memLoader.ChangeVersion(ctx)
}

// TestPolicyHotPathHasNoStoreAccess: rules, filters and meters are served
// from the snapshot; requests do not touch the store.
func TestPolicyHotPathHasNoStoreAccess(t *testing.T) {
	t.Parallel()
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"a":1,"b":2,"usage":{"n":1}}`)
	}))
	f.standard(nil)
	f.data.Rules = []store.Rule{rule("rule_body", proxyOwner, "deny", func(r *store.Rule) {
		r.BodyChecks = []store.RuleBodyCheck{{Path: "x", ValuePattern: "^1$"}}
	})}
	f.data.Filters = []store.Filter{{ID: "flt", Owner: proxyOwner, Action: "destroy", Paths: []string{"b"}}}
	f.data.Meters = []store.Meter{{ID: "mtr", ProxyID: "prx", Name: "n", Type: "response_value", Active: true, Mode: "all",
		Extraction: &store.MeterExtraction{Location: "body", Path: "usage.n"}}}
	loader := &countingLoader{memLoader: memLoader{data: f.data}}
	mgr := snapshot.New(snapshot.Deps{
		Loader: loader, Opener: f.keyring, Hasher: auth.NewHasher(f.keyring.NewMAC),
		Transports: func(o snapshot.TransportOptions) (http.RoundTripper, error) {
			return egress.NewTransport(f.policy, egress.TransportOptions{ResponseHeaderTimeout: o.ResponseHeaderTimeout})
		},
		PollInterval: time.Hour,
	})
	if err := mgr.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mgr.Stop)
	h := New(mgr, f.opts)
	before := loader.calls.Load()
	for range 50 {
		rec := newRecorder()
		req, _ := http.NewRequest("POST", "/api/prx/x", strings.NewReader(`{"x":2}`))
		req.Header.Set("Authorization", "caller-key-1")
		h.ServeHTTP(rec, req)
		if rec.code != 200 || rec.body.String() != `{"a":1,"usage":{"n":1}}` {
			t.Fatalf("%d %s", rec.code, rec.body.String())
		}
	}
	if n := loader.calls.Load() - before; n != 0 {
		t.Errorf("%d store accesses during 50 requests", n)
	}
}

// recorder is a minimal ResponseWriter with Flush (ReverseProxy flushes).
type recorder struct {
	hdr  http.Header
	code int
	body bytes.Buffer
}

func newRecorder() *recorder                    { return &recorder{hdr: http.Header{}} }
func (r *recorder) Header() http.Header         { return r.hdr }
func (r *recorder) WriteHeader(c int)           { r.code = c }
func (r *recorder) Write(p []byte) (int, error) { return r.body.Write(p) }
func (r *recorder) Flush()                      {}
