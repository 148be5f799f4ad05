package inject

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/credential"
)

// loginServer is a token endpoint of the kind customToken is for: a login
// call that answers a JSON document with the token somewhere inside.
func loginServer(t *testing.T, answer func(w http.ResponseWriter, n int64)) (*httptest.Server, *atomic.Int64, chan *http.Request) {
	var hits atomic.Int64
	seen := make(chan *http.Request, 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		seen <- r
		answer(w, hits.Add(1))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits, seen
}

func TestCustomTokenExtractsAndCaches(t *testing.T) {
	t.Parallel()
	srv, hits, seen := loginServer(t, func(w http.ResponseWriter, n int64) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"data":{"session":[{"token":"sess-%d","ttl":"120"}]}}`, n)
	})
	cfg, sec := parse(t, credential.CustomToken, fmt.Sprintf(`{"request":{"method":"POST","url":%q,
		"headers":{"X-Api-Key":"login-key"},"body":"{\"user\":\"svc\"}"},"tokenPath":"data.session.0.token",
		"expiresInPath":"data.session.0.ttl","headerName":"X-Session","prefix":"Session "}`, srv.URL+"/login"))
	clk := newClock()
	reg := newRegistry(t, clk, nil)
	inj, _ := reg.Injector("c", "v", credential.CustomToken, cfg, sec)
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			if v, _ := applied(t, inj); v != "Session sess-1" {
				t.Errorf("injected %q", v)
			}
		})
	}
	wg.Wait()
	if hits.Load() != 1 {
		t.Fatalf("login calls after a burst of 100: %d", hits.Load())
	}
	r := <-seen
	if r.Method != "POST" || r.Header.Get("X-Api-Key") != "login-key" || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("request %s %v", r.Method, r.Header)
	}
	if b, _ := io.ReadAll(r.Body); string(b) != `{"user":"svc"}` {
		t.Fatalf("body %q", b)
	}
	if inj.HeaderNames()[0] != "X-Session" || !strings.Contains(strings.Join(inj.Secrets(), ","), "login-key") {
		t.Fatalf("header names %v, secrets %v", inj.HeaderNames(), inj.Secrets())
	}
	clk.Add(2 * time.Minute) // the answered ttl of 120 s has passed
	if v, _ := applied(t, inj); v != "Session sess-2" {
		t.Fatalf("after expiry: %q", v)
	}
}

func TestCustomTokenTTLAndDefaults(t *testing.T) {
	t.Parallel()
	srv, hits, _ := loginServer(t, func(w http.ResponseWriter, n int64) {
		json.NewEncoder(w).Encode(map[string]any{"token": fmt.Sprintf("t%d", n)})
	})
	cfg, sec := parse(t, credential.CustomToken, fmt.Sprintf(`{"request":{"method":"GET","url":%q},"tokenPath":"token","ttlSeconds":30}`, srv.URL))
	clk := newClock()
	reg := newRegistry(t, clk, nil)
	inj, _ := reg.Injector("c", "v", credential.CustomToken, cfg, sec)
	if v, _ := applied(t, inj); v != "Bearer t1" {
		t.Fatalf("default header value %q", v)
	}
	clk.Add(31 * time.Second)
	if v, _ := applied(t, inj); v != "Bearer t2" || hits.Load() != 2 {
		t.Fatalf("after ttl: %q", v)
	}
}

func TestCustomTokenBadAnswers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, path string
		answer     func(w http.ResponseWriter)
		reason     string
	}{
		{"html", "token", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html>login</html>")
		}, "not JSON (content type text/html)"},
		{"5xx", "token", func(w http.ResponseWriter) { w.WriteHeader(503) }, "HTTP 503"},
		{"redirect", "token", func(w http.ResponseWriter) {
			w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
			w.WriteHeader(302)
		}, "HTTP 302"},
		{"missing", "data.token", func(w http.ResponseWriter) { fmt.Fprint(w, `{"data":{}}`) }, "no value at tokenPath data.token"},
		{"number", "token", func(w http.ResponseWriter) { fmt.Fprint(w, `{"token":42}`) }, "not a non-empty string"},
		{"control", "token", func(w http.ResponseWriter) { fmt.Fprint(w, `{"token":"a\nb"}`) }, "control characters"},
		{"huge", "token", func(w http.ResponseWriter) { fmt.Fprint(w, `{"token":"`+strings.Repeat("x", 300<<10)+`"}`) }, "larger than the limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv, _, _ := loginServer(t, func(w http.ResponseWriter, _ int64) { c.answer(w) })
			cfg, sec := parse(t, credential.CustomToken, fmt.Sprintf(`{"request":{"url":%q,"body":"secret-login-body"},"tokenPath":%q}`, srv.URL, c.path))
			inj, _ := newRegistry(t, newClock(), nil).Injector("c", "v", credential.CustomToken, cfg, sec)
			_, err := inj.Prepare(context.Background())
			if err == nil || !strings.Contains(err.Error(), c.reason) || strings.Contains(err.Error(), "secret-login-body") {
				t.Fatalf("error %v, want %q", err, c.reason)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	var doc any
	_ = json.Unmarshal([]byte(`{"a":{"b":[{"c":"x"}]},"n":null}`), &doc)
	if v, ok := Lookup(doc, []string{"a", "b", "0", "c"}); !ok || v != "x" {
		t.Fatal(v, ok)
	}
	for _, p := range [][]string{{"a", "b", "1"}, {"a", "b", "-1"}, {"a", "x"}, {"n", "x"}, {"a", "b", "c"}} {
		if _, ok := Lookup(doc, p); ok {
			t.Errorf("%v found", p)
		}
	}
}

func FuzzExtractToken(f *testing.F) {
	f.Add(`{"data":{"token":"abc","ttl":60}}`, "data.token", "data.ttl")
	f.Add(`[1,2,{"t":"x"}]`, "2.t", "")
	f.Add(`{"t":"x","e":"1e309"}`, "t", "e")
	reg := NewRegistry(RegistryOptions{})
	defer reg.Close()
	f.Fuzz(func(t *testing.T, body, tokenPath, expPath string) {
		var doc any
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		if dec.Decode(&doc) != nil {
			return
		}
		tp, err := credential.SplitPath(tokenPath)
		if err != nil {
			return
		}
		ep, _ := credential.SplitPath(expPath)
		tok, _, err := reg.extractToken(doc, tp, ep, 0)
		if err == nil && (tok.Value == "" || !credential.ValidHeaderValue(tok.Value)) {
			t.Fatalf("accepted token %q", tok.Value)
		}
	})
}
