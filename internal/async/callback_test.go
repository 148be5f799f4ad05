package async

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/egress"
	"github.com/keyway-dev/keyway/internal/store"
)

// TestCheckCallbackAppliesTheEgressPolicy: at submit, a callback URL whose
// host is a literal IP address in a blocked range is refused with the
// egress rule, even when its origin was allowed.
func TestCheckCallbackAppliesTheEgressPolicy(t *testing.T) {
	t.Parallel()
	q := New(Deps{URLCheck: egress.Policy{AllowPrivateNetworks: true}})
	for raw, rule := range map[string]string{
		"http://169.254.169.254/latest": "cloud-metadata",
		"http://[fd00:ec2::254]/x":      "cloud-metadata",
		"http://0.0.0.0:9/hook":         "unspecified",
		"http://127.0.0.1:9000/hook":    "",
		"https://hooks.example.com/a":   "",
	} {
		origin := raw[:strings.Index(raw[8:], "/")+8]
		err := q.CheckCallback(raw, []string{origin})
		if rule == "" {
			if err != nil {
				t.Errorf("%s refused: %v", raw, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "egress rule "+rule) {
			t.Errorf("%s: %v, want a refusal naming %s", raw, err, rule)
		}
	}
	if err := q.CheckCallback("https://hooks.example.com/a", []string{"https://other.example.com"}); err == nil {
		t.Error("the origin check still applies")
	}
}

// TestCallbackBlockedAtDialFailsAtOnce: a callback the egress guard blocks
// when dialling (its address cannot change range) fails after one attempt
// with a message naming the rule, never "network error" and never retried.
func TestCallbackBlockedAtDialFailsAtOnce(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(hook.Close)
	w := newWorld(t, "sqlite", http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { rw.WriteHeader(200) }))
	ctx := context.Background()
	px := w.proxy
	px.WebhookSecretSealed = w.keys.Seal([]byte("whsec_"+base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))), "proxy-webhook:"+px.ID)
	if err := w.st.ProxyUpdate(ctx, px); err != nil {
		t.Fatal(err)
	}
	// the strict policy: the loopback receiver is blocked when dialled
	q := New(Deps{Store: w.st, Snapshots: w.snaps, Opener: w.keys, Callbacks: egress.NewClient(egress.Policy{}, time.Second),
		Options: Options{PollInterval: 10 * time.Millisecond, CallbackBackoff: time.Millisecond, CallbackMaxAttempts: 8}})
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(q.Stop)
	s := w.submission("req_cb", []byte(`{}`))
	s.CallbackURL = hook.URL + "/hook"
	if _, err := q.Accept(ctx, s); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var r store.AsyncRequest
	for ; ; <-tick.C {
		var err error
		if r, err = q.Get(ctx, "req_cb"); err == nil && r.Callback.State == store.CallbackFailed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("callback not failed: %+v (%v)", r.Callback, err)
		}
	}
	if r.Callback.Attempts != 1 || !strings.Contains(r.Callback.LastError, `egress rule loopback`) || hits.Load() != 0 {
		t.Errorf("callback %+v (receiver hit %d times)", r.Callback, hits.Load())
	}
}
