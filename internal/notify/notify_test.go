package notify

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/store/sqlite"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestSignStandardWebhooksVector checks the signature against the
// reference example of the Standard Webhooks specification.
func TestSignStandardWebhooksVector(t *testing.T) {
	t.Parallel()
	got, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil || got != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Fatalf("Sign = %q, %v", got, err)
	}
	if _, err := Sign("not-a-secret", "id", time.Now(), nil); err == nil {
		t.Error("a secret without whsec_ was accepted")
	}
}

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.MigrateUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// TestDispatcherDedupAndSignedDelivery reports one limit hit many times,
// then checks one notification exists and the client's webhook received it
// once, correctly signed, after two failed attempts.
func TestDispatcherDedupAndSignedDelivery(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	ctx := t.Context()
	if err := st.ClientCreate(ctx, store.Client{ID: "cli_a", Name: "a"}); err != nil {
		t.Fatal(err)
	}
	keys, err := seal.New(bytes.Repeat([]byte{3}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	var mu sync.Mutex
	var attempts int
	var delivered []byte
	var headers http.Header
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		attempts++
		if attempts <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		delivered, headers = body, r.Header.Clone()
	}))
	t.Cleanup(hook.Close)
	err = st.WebhookPut(ctx, store.Webhook{ClientID: "cli_a", URL: hook.URL, Active: true,
		SecretSealed: keys.Seal([]byte(secret), WebhookAAD("cli_a"))})
	if err != nil {
		t.Fatal(err)
	}
	d := New(Options{Store: st, Opener: keys, HTTP: hook.Client(), Retries: []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond},
		Poll: 5 * time.Millisecond})
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	window := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for range 500 {
		d.Notify(RateLimitReached("cli_a", "prx_1", "minute", 10, window))
	}
	waitFor(t, "the webhook delivery", func() bool { mu.Lock(); defer mu.Unlock(); return delivered != nil })
	list, err := st.NotificationList(ctx, store.NotificationListParams{Scope: store.NotifyClient, ScopeID: "cli_a", Limit: 10})
	if err != nil || len(list) != 1 || list[0].Kind != KindRateLimit || list[0].Data["proxyId"] != "prx_1" {
		t.Fatalf("notifications: %+v %v", list, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if attempts != 3 {
		t.Errorf("%d attempts, want 3 (two failures, then success)", attempts)
	}
	ts, _ := strconv.ParseInt(headers.Get("webhook-timestamp"), 10, 64)
	key, _ := base64.StdEncoding.DecodeString(secret[len(SecretPrefix):])
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(headers.Get("webhook-id") + "." + strconv.FormatInt(ts, 10) + "." + string(delivered)))
	if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); headers.Get("webhook-signature") != want {
		t.Errorf("signature %q, want %q", headers.Get("webhook-signature"), want)
	}
	var p Payload
	if err := json.Unmarshal(delivered, &p); err != nil || p.Data.ID != list[0].ID || p.Data.Kind != KindRateLimit ||
		headers.Get("webhook-id") != list[0].ID || p.Data.ClientID != "cli_a" {
		t.Errorf("payload %s (%v)", delivered, err)
	}
}

func TestCredentialExpiringCheck(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	ctx := t.Context()
	now := time.Now().UTC()
	if err := st.ClientCreate(ctx, store.Client{ID: "cli_a", Name: "a"}); err != nil {
		t.Fatal(err)
	}
	mk := func(id string, exp time.Time) {
		err := st.CredentialCreate(ctx, store.Credential{ID: id, ClientID: "cli_a", Name: id, Type: "target", AuthType: "bearer",
			Region: "local", DefaultRuleEffect: "allow", ExpiresAt: &exp})
		if err != nil {
			t.Fatal(err)
		}
	}
	mk("cred_soon", now.Add(48*time.Hour))
	mk("cred_later", now.Add(30*24*time.Hour))
	d := New(Options{Store: st, ExpiryWarning: 7 * 24 * time.Hour, ExpiryCheck: time.Hour})
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var list []store.Notification
	waitFor(t, "the expiry notification", func() bool {
		list, _ = st.NotificationList(ctx, store.NotificationListParams{Scope: store.NotifyClient, ScopeID: "cli_a", Limit: 10})
		return len(list) > 0
	})
	d.checkExpiring(ctx) // a second check adds nothing
	d.Stop()
	list, _ = st.NotificationList(ctx, store.NotificationListParams{Scope: store.NotifyClient, ScopeID: "cli_a", Limit: 10})
	if len(list) != 1 || list[0].Kind != KindCredentialExpiring || list[0].Data["credentialId"] != "cred_soon" {
		t.Fatalf("notifications: %+v", list)
	}
}
