package dataplane

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/keyway-dev/keyway/internal/store"
)

func TestCanonicalPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"admin/x":             "admin/x",
		"%61dmin/x":           "admin/x",
		"models/g:%67enerate": "models/g:generate",
		"a%3Ab%40c":           "a:b@c",
		"a%20b":               "a%20b",
		"caf%c3%a9":           "caf%C3%A9",
		"q%3fx%23y%25z":       "q%3Fx%23y%25z",
		"%7e%2d%2e%5f":        "~-._",
	} {
		if got := canonicalPath(in); got != want {
			t.Errorf("canonicalPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEscapedPathsCannotDodgeRulesOrChangeUnderway: a rule on /admin also
// holds for /%61dmin, and the target receives the canonical spelling.
func TestEscapedPathsCannotDodgeRules(t *testing.T) {
	t.Parallel()
	var seen string
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.URL.EscapedPath() }))
	f.standard(nil)
	f.data.Rules = []store.Rule{rule("rule_admin", proxyOwner, "deny", func(r *store.Rule) { r.PathPattern = "^/admin" })}
	f.start()
	for _, p := range []string{"/api/prx/admin/x", "/api/prx/%61dmin/x", "/api/prx/%41dmin/x"} {
		resp, body := f.do("GET", p, nil, key("caller-key-1"))
		if p == "/api/prx/%41dmin/x" {
			expect(t, resp, body, 200, "proxy-access-granted") // "Admin" is another path
			continue
		}
		expect(t, resp, body, 403, "proxy-access-denied")
	}
	resp, body := f.do("GET", "/api/prx/%61pi/caf%c3%a9", nil, key("caller-key-1"))
	expect(t, resp, body, 200, "proxy-access-granted")
	if seen != "/api/caf%C3%A9" {
		t.Fatalf("target saw %q", seen)
	}
}

// TestFailuresAreRecordedOnce: an upstream failure answers through fail,
// and must not be recorded a second time when the reverse proxy returns.
func TestFailuresAreRecordedOnceAndCutsAreLoggedAsSuch(t *testing.T) {
	t.Parallel()
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stream" {
			for range 20 {
				_, _ = w.Write(make([]byte, 200))
				w.(http.Flusher).Flush()
			}
			return
		}
		w.Header().Set("Content-Length", "5000")
		_, _ = w.Write(make([]byte, 5000))
	}))
	rec := &fakeRecorder{}
	f.opts.Recorder = rec
	f.standard(func(t *store.Target) { t.MaxResponseBytes = 1000 })
	f.start()
	resp, body := f.do("GET", "/api/prx/big", nil, key("caller-key-1"))
	expect(t, resp, body, 413, "response-too-large")
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/prx/stream", nil)
	req.Header.Set("Authorization", "caller-key-1")
	if r, err := http.DefaultClient.Do(req); err == nil {
		_, _ = io.ReadAll(r.Body)
		r.Body.Close()
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.events) != 2 {
		t.Fatalf("%d events for 2 requests", len(rec.events))
	}
	if cut := rec.events[1]; cut.Status != 200 || cut.Code != "response-too-large" || !strings.Contains(cut.Message, "cut off") {
		t.Fatalf("cut stream recorded as %d %q %q", cut.Status, cut.Code, cut.Message)
	}
}

func TestPreflightAndTimeoutCarryTheDiagnosticHeaders(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	f.standard(func(t *store.Target) { t.TimeoutSeconds = 1 })
	f.proxy("web", "cp", "t1", "ct", func(p *store.Proxy) { p.CorsOrigins = []string{"https://app.example"} })
	f.start()
	resp, _ := f.do("OPTIONS", "/api/web/x", nil, map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
	for _, h := range []string{"Requestrocket-Proxy-Code", "Requestrocket-Proxy-Message", "Requestrocket-Request-Id", "Server-Timing", "Vary"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("preflight without %s", h)
		}
	}
	resp, body := f.do("GET", "/api/prx/slow", nil, key("caller-key-1"))
	expect(t, resp, body, 504, "target-timeout")
	if st := resp.Header.Get("Server-Timing"); !strings.Contains(st, "upstream;dur=1") {
		t.Fatalf("504 Server-Timing %q should give the wait to the upstream", st)
	}
}
