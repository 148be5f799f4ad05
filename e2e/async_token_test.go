package e2e

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/idptest"
)

// TestAsyncDeliveryRenewsARefusedToken: an async request whose OAuth2
// token the target refuses is delivered with a fresh token on the same
// attempt, and the token the target echoes is not stored.
func TestAsyncDeliveryRenewsARefusedToken(t *testing.T) {
	t.Parallel()
	as := idptest.NewAuthServer(t, idptest.Options{})
	var mu sync.Mutex
	refuseOnce := true
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		refuse := refuseOnce
		refuseOnce = false
		mu.Unlock()
		if refuse || !as.Valid(r) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		_ = json.NewEncoder(w).Encode(map[string]string{"echo": string(body), "auth": r.Header.Get("Authorization")})
	}))
	t.Cleanup(up.Close)
	n := startNode(t, nodeOptions{})
	tc, _, _ := n.createCredential(map[string]any{"credentialName": "idp", "credentialType": "target", "credentialAuthType": "oauth2",
		"credentialSecret": map[string]any{"tokenUrl": as.TokenURL, "clientId": as.ClientID, "clientSecret": as.ClientSecret}})
	callerID, key := n.caller()
	pid := n.wire(callerID, tc.ID, up.URL)

	resp, raw := n.call("POST", "/async/"+pid+"/work", key, strings.NewReader("payload"))
	wantCode(t, resp, raw, 202, "proxy-access-granted")
	var accepted struct{ RequestID string }
	if err := json.Unmarshal([]byte(raw), &accepted); err != nil || accepted.RequestID == "" {
		t.Fatalf("202 body %s", raw)
	}
	r := n.waitState(t, pid, accepted.RequestID, 20*time.Second, "succeeded", "failed", "dead")
	if r.State != "succeeded" || r.Attempts != 1 || r.Response == nil {
		t.Fatalf("request %+v", r)
	}
	if as.TokenHits() != 2 {
		t.Fatalf("%d token requests, want 2 (first token refused, one renewal)", as.TokenHits())
	}
	body := r.Response.Body
	if r.Response.BodyEncoding == "base64" {
		b, _ := base64.StdEncoding.DecodeString(body)
		body = string(b)
	}
	var echoed map[string]string
	if err := json.Unmarshal([]byte(body), &echoed); err != nil || echoed["echo"] != "payload" {
		t.Fatalf("stored body %q", body)
	}
	// the target echoed "Bearer <token>"; only the scheme may remain
	if auth := echoed["auth"]; !strings.HasPrefix(auth, "Bearer ") || len(strings.TrimPrefix(auth, "Bearer ")) > 0 && !strings.Contains(strings.ToLower(auth), "redacted") {
		t.Fatalf("the fetched token was stored: %q", auth)
	}
}
