package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/client"
)

// asyncUpstream is a target that counts deliveries by Idempotency-Key and
// answers per path: /ok echoes, /flaky fails with 503 twice per key then
// succeeds, /bad answers 400, /down answers 503 (or 200 once healed),
// /later answers 429 with Retry-After: 60, /soon 429 with Retry-After: 1,
// /slow waits delay, /hook receives callbacks.
type asyncUpstream struct {
	*httptest.Server
	delay time.Duration

	mu     sync.Mutex
	seen   map[string]int // Idempotency-Key → deliveries
	healed bool
	hooks  []hook
}

type hook struct {
	header http.Header
	body   []byte
}

func newAsyncUpstream(t *testing.T, delay time.Duration) *asyncUpstream {
	t.Helper()
	u := &asyncUpstream{seen: map[string]int{}, delay: delay}
	u.Server = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.Close)
	return u
}

func (u *asyncUpstream) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.URL.Path == "/hook" {
		u.mu.Lock()
		u.hooks = append(u.hooks, hook{header: r.Header.Clone(), body: body})
		u.mu.Unlock()
		w.WriteHeader(204)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	u.mu.Lock()
	u.seen[key]++
	n, healed := u.seen[key], u.healed
	u.mu.Unlock()
	switch {
	case strings.HasSuffix(r.URL.Path, "/flaky") && n <= 2, strings.HasSuffix(r.URL.Path, "/down") && !healed:
		w.WriteHeader(503)
	case strings.HasSuffix(r.URL.Path, "/bad"):
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"error":"bad"}`))
	case strings.HasSuffix(r.URL.Path, "/later"):
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(429)
	case strings.HasSuffix(r.URL.Path, "/soon"):
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(429)
	default:
		if u.delay > 0 {
			select { // a slow target
			case <-time.After(u.delay):
			case <-r.Context().Done():
				return
			}
		}
		// echo, including the injected credential, which keyway must redact
		w.Header().Set("X-Echo-Key", r.Header.Get("X-API-Key"))
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"path": r.URL.Path, "query": r.URL.RawQuery,
			"key": r.Header.Get("X-API-Key"), "auth": r.Header.Get("Authorization"), "body": string(body),
			"idem": key, "n": n})
	}
}

func (u *asyncUpstream) count(key string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.seen[key]
}

func (u *asyncUpstream) heal() {
	u.mu.Lock()
	u.healed = true
	u.mu.Unlock()
}

func (u *asyncUpstream) callbacks() []hook {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]hook(nil), u.hooks...)
}

// submit posts an async request and returns the 202 answer's request id.
func (n *node) submit(t *testing.T, s proxySetup, path, body string, hdr ...string) (string, *http.Response, map[string]any) {
	t.Helper()
	resp, raw := n.call("POST", "/async/"+s.Proxy.ID+path, s.CallerKey, strings.NewReader(body), hdr...)
	var out map[string]any
	_ = json.Unmarshal([]byte(raw), &out)
	id, _ := out["requestId"].(string)
	return id, resp, out
}

var finalStates = map[string]bool{"succeeded": true, "failed": true, "dead": true, "cancelled": true}

// waitState polls the Core API until the request is in one of the states.
func (n *node) waitState(t *testing.T, proxyID, reqID string, limit time.Duration, states ...string) client.AsyncRequest {
	t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last client.AsyncRequest
	for {
		r, err := n.API.AsyncRequest(ctx(t), "default", proxyID, reqID)
		if err == nil {
			last = r
			for _, s := range states {
				if r.State == s {
					return r
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %s is %q after %v (%v), want %v: %+v", reqID, last.State, limit, err, states, last)
		}
		<-tick.C
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
