package dataplane

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/keyway-dev/keyway/internal/idptest"
)

// tokenUpstream accepts only access tokens the authorization server issued
// and that it has not revoked itself; it echoes the request body.
type tokenUpstream struct {
	as      *idptest.AuthServer
	mu      sync.Mutex
	revoked map[string]bool
	seen    []string
}

func (u *tokenUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	authz := r.Header.Get("Authorization")
	u.mu.Lock()
	u.seen = append(u.seen, authz)
	revoked := u.revoked[authz]
	u.mu.Unlock()
	if revoked || !u.as.Valid(r) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	body, _ := io.ReadAll(r.Body)
	fmt.Fprintf(w, "ok %s", body)
}

func (u *tokenUpstream) revokeLast() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.revoked[u.seen[len(u.seen)-1]] = true
}

func oauthFixture(t *testing.T) (*fixture, *idptest.AuthServer, *tokenUpstream) {
	as := idptest.NewAuthServer(t, idptest.Options{})
	up := &tokenUpstream{as: as, revoked: map[string]bool{}}
	f := newFixture(t, up)
	f.credential("cp", "proxy", "apiKey", `{"key":"caller-key-1"}`)
	f.credential("ct", "target", "oauth2", fmt.Sprintf(`{"tokenUrl":%q,"clientId":%q,"clientSecret":%q}`, as.TokenURL, as.ClientID, as.ClientSecret))
	f.target("t1", f.upstream.URL, nil)
	f.proxy("prx", "cp", "t1", "ct", nil)
	f.start()
	return f, as, up
}

func TestOAuth2TargetThroughTheDataPlane(t *testing.T) {
	t.Parallel()
	f, as, up := oauthFixture(t)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			resp, body := f.do("GET", "/api/prx/x", nil, key("caller-key-1"))
			if resp.StatusCode != 200 || resp.Header.Get("Requestrocket-Proxy-Code") != "proxy-access-granted" {
				t.Errorf("got %d %s", resp.StatusCode, body)
			}
		})
	}
	wg.Wait()
	if as.TokenHits() != 1 {
		t.Fatalf("token requests for 50 concurrent first requests: %d", as.TokenHits())
	}
	// The target revokes the token: keyway renews it once and replays the request, body included.
	up.revokeLast()
	resp, body := f.do("POST", "/api/prx/x", strings.NewReader(`{"n":1}`), key("caller-key-1"))
	expect(t, resp, body, 200, "proxy-access-granted")
	if body != `ok {"n":1}` || as.TokenHits() != 2 {
		t.Fatalf("after revocation: %q, %d token requests", body, as.TokenHits())
	}
	// A streamed body cannot be replayed: the target's 401 reaches the caller.
	up.revokeLast()
	pr, pw := io.Pipe()
	go func() { pw.Write([]byte("streamed")); pw.Close() }()
	resp, body = f.do("POST", "/api/prx/x", pr, key("caller-key-1"))
	expect(t, resp, body, 401, "proxy-access-granted")
	// …and the next request renews the refused token.
	resp, body = f.do("GET", "/api/prx/x", nil, key("caller-key-1"))
	expect(t, resp, body, 200, "proxy-access-granted")
}

func TestTokenFailureIsTargetAuthFailed(t *testing.T) {
	t.Parallel()
	f, as, _ := oauthFixture(t)
	as.Intercept(func(w http.ResponseWriter, _ *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_client","error_description":"secret expired"}`)
		return true
	})
	resp, body := f.do("GET", "/api/prx/x", nil, key("caller-key-1"))
	expect(t, resp, body, 502, "target-auth-failed")
	if msg := resp.Header.Get("Requestrocket-Proxy-Message"); !strings.Contains(msg, "HTTP 400, invalid_client") || strings.Contains(body, as.ClientSecret) {
		t.Fatalf("message %q body %s", msg, body)
	}
}

func TestJWTVerifyCallerThroughTheDataPlane(t *testing.T) {
	t.Parallel()
	jwks := idptest.NewJWKS(t)
	jwks.AddKey(t, jose.ES256, "k1", true)
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Error("caller JWT forwarded upstream")
		}
	}))
	f.credential("cp", "proxy", "jwtVerify", fmt.Sprintf(`{"jwksUrl":%q,"audiences":["keyway"]}`, jwks.URL))
	f.credential("ct", "target", "apiKey", `{"key":"target-key"}`)
	f.target("t1", f.upstream.URL, nil)
	f.proxy("prx", "cp", "t1", "ct", nil)
	f.start()
	now := time.Now()
	good := jwks.Sign(t, "k1", map[string]any{"aud": "keyway", "exp": now.Add(time.Hour).Unix()}, false)
	resp, body := f.do("GET", "/api/prx/x", nil, key("Bearer "+good))
	expect(t, resp, body, 200, "proxy-access-granted")
	expired := jwks.Sign(t, "k1", map[string]any{"aud": "keyway", "exp": now.Add(-time.Hour).Unix()}, false)
	resp, body = f.do("GET", "/api/prx/x", nil, key("Bearer "+expired))
	expect(t, resp, body, 403, "proxy-access-denied")
	if msg := resp.Header.Get("Requestrocket-Proxy-Message"); msg != "Invalid proxy credential: token has expired" {
		t.Fatalf("message %q", msg)
	}
}
