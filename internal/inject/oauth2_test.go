package inject

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/idptest"
)

func clientCreds(t *testing.T, as *idptest.AuthServer, extra string) (credential.Config, credential.Secret) {
	return parse(t, credential.OAuth2, fmt.Sprintf(`{"tokenUrl":%q,"clientId":%q,"clientSecret":%q%s}`,
		as.TokenURL, as.ClientID, as.ClientSecret, extra))
}

// A burst of first requests makes exactly one token request; later
// requests use the cached token until it nears expiry.
func TestClientCredentialsBurstFetchesOnce(t *testing.T) {
	t.Parallel()
	as := idptest.NewAuthServer(t, idptest.Options{AccessTokenExp: time.Hour})
	clk := newClock()
	reg := newRegistry(t, clk, nil)
	cfg, sec := clientCreds(t, as, "")
	inj, err := reg.Injector("cred1", "v1", credential.OAuth2, cfg, sec)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	values := make([]string, 100)
	start := make(chan struct{})
	for i := range values {
		wg.Go(func() {
			<-start
			values[i], _ = applied(t, inj)
		})
	}
	close(start)
	wg.Wait()
	if n := as.TokenHits(); n != 1 {
		t.Fatalf("token requests after a burst of 100: %d, want 1", n)
	}
	for _, v := range values {
		if v != values[0] || !strings.HasPrefix(v, "Bearer ") || len(v) < 20 {
			t.Fatalf("injected %q and %q", v, values[0])
		}
	}
	// A rebuilt snapshot asks the registry again: same source, no fetch.
	inj2, _ := reg.Injector("cred1", "v1", credential.OAuth2, cfg, sec)
	if v, _ := applied(t, inj2); v != values[0] || as.TokenHits() != 1 {
		t.Fatalf("rebuild refetched: %q, %d hits", v, as.TokenHits())
	}
	// 56 minutes in, the token is stale: served, and renewed in the background once.
	clk.Add(56 * time.Minute)
	for range 20 {
		if v, _ := applied(t, inj); v != values[0] && as.TokenHits() < 2 {
			t.Fatal("stale token replaced before the background fetch finished")
		}
	}
	eventually(t, "background refresh", func() bool { return as.TokenHits() == 2 })
	eventually(t, "new token served", func() bool { v, _ := applied(t, inj); return v != values[0] })
	if n := as.TokenHits(); n != 2 {
		t.Fatalf("token requests after renewal: %d, want 2", n)
	}
	// Past expiry without traffic: the next request waits for one fetch.
	clk.Add(2 * time.Hour)
	applied(t, inj)
	if n := as.TokenHits(); n != 3 {
		t.Fatalf("token requests after expiry: %d, want 3", n)
	}
}

func TestClientCredentialsRequestShape(t *testing.T) {
	t.Parallel()
	as := idptest.NewAuthServer(t, idptest.Options{})
	reg := newRegistry(t, newClock(), nil)
	for _, style := range []string{"basic", "post"} {
		cfg, sec := clientCreds(t, as, `,"scopes":["read","write"],"audience":"https://api.example","authStyle":"`+style+`","extraParams":{"resource":"r1"}`)
		inj, _ := reg.Injector("cred-"+style, "v", credential.OAuth2, cfg, sec)
		applied(t, inj)
		form, got := as.LastForm()
		if got != style {
			t.Errorf("client authentication %q, want %q", got, style)
		}
		if form.Get("grant_type") != "client_credentials" || form.Get("scope") != "read write" ||
			form.Get("audience") != "https://api.example" || form.Get("resource") != "r1" {
			t.Errorf("%s form: %v", style, form)
		}
		if (style == "basic") == form.Has("client_secret") {
			t.Errorf("%s: client_secret in form = %v", style, form.Has("client_secret"))
		}
	}
}

func TestClientCredentialsWrongSecret(t *testing.T) {
	t.Parallel()
	as := idptest.NewAuthServer(t, idptest.Options{})
	reg := newRegistry(t, newClock(), nil)
	cfg, sec := clientCreds(t, as, "")
	sec.ClientSecret = "wrong-secret-value"
	inj, _ := reg.Injector("c", "v", credential.OAuth2, cfg, sec)
	_, err := inj.Prepare(context.Background())
	if err == nil || !strings.Contains(err.Error(), "refused") || strings.Contains(err.Error(), "wrong-secret-value") {
		t.Fatalf("error %v", err)
	}
}

func TestTokenEndpointMisbehaving(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		answer func(w http.ResponseWriter)
		reason string
	}{
		{"html", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>Sign in</body></html>")
		}, "not a JSON token response"},
		{"5xx", func(w http.ResponseWriter) { http.Error(w, "boom", http.StatusBadGateway) }, "HTTP 502"},
		{"no token", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"token_type":"Bearer"}`)
		}, "no access_token"},
		{"huge", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"`+strings.Repeat("a", 300<<10)+`"}`)
		}, "larger than the limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			as := idptest.NewAuthServer(t, idptest.Options{})
			as.Intercept(func(w http.ResponseWriter, _ *http.Request) bool { c.answer(w); return true })
			clk := newClock()
			reg := newRegistry(t, clk, func(o *RegistryOptions) { o.FailureCooldown = time.Second })
			cfg, sec := clientCreds(t, as, "")
			inj, _ := reg.Injector("c", "v", credential.OAuth2, cfg, sec)
			_, err := inj.Prepare(context.Background())
			if err == nil || !strings.Contains(err.Error(), c.reason) {
				t.Fatalf("error %v, want it to mention %q", err, c.reason)
			}
			// within the cooldown the error is answered without a new request
			as.Intercept(nil)
			if _, err2 := inj.Prepare(context.Background()); err2 == nil || as.TokenHits() != 1 {
				t.Fatalf("within cooldown: %v, %d hits", err2, as.TokenHits())
			}
			// nothing was cached: once the provider is fixed, a token arrives
			clk.Add(time.Second)
			if v, _ := applied(t, inj); !strings.HasPrefix(v, "Bearer ") {
				t.Fatalf("after recovery: %q", v)
			}
		})
	}
}

func TestTokenEndpointTimeout(t *testing.T) {
	t.Parallel()
	as := idptest.NewAuthServer(t, idptest.Options{})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	as.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return true
	})
	reg := newRegistry(t, newClock(), func(o *RegistryOptions) { o.FetchTimeout = 200 * time.Millisecond })
	cfg, sec := clientCreds(t, as, "")
	inj, _ := reg.Injector("c", "v", credential.OAuth2, cfg, sec)
	_, err := inj.Prepare(context.Background())
	if err == nil || !strings.Contains(err.Error(), "did not answer in time") {
		t.Fatalf("error %v", err)
	}
}

func TestTokenWithoutExpiryGetsDefaultLifetime(t *testing.T) {
	t.Parallel()
	as := idptest.NewAuthServer(t, idptest.Options{})
	as.Intercept(func(w http.ResponseWriter, _ *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"Bearer"}`, as.TokenHits())
		return true
	})
	clk := newClock()
	reg := newRegistry(t, clk, func(o *RegistryOptions) { o.DefaultTTL = time.Minute })
	cfg, sec := clientCreds(t, as, "")
	inj, _ := reg.Injector("c", "v", credential.OAuth2, cfg, sec)
	first, _ := applied(t, inj)
	clk.Add(30 * time.Second)
	if v, _ := applied(t, inj); v != first {
		t.Fatalf("token changed within the default lifetime")
	}
	clk.Add(31 * time.Second)
	if v, _ := applied(t, inj); v == first || as.TokenHits() != 2 {
		t.Fatalf("token not renewed after the default lifetime: %q (%d hits)", v, as.TokenHits())
	}
}

// After the target refuses a token, concurrent renewals cause one fetch.
func TestRenewAfterRefusalFetchesOnce(t *testing.T) {
	t.Parallel()
	as := idptest.NewAuthServer(t, idptest.Options{})
	reg := newRegistry(t, newClock(), nil)
	cfg, sec := clientCreds(t, as, "")
	inj, _ := reg.Injector("c", "v", credential.OAuth2, cfg, sec)
	first, a := applied(t, inj)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := a.(Renewer).Renew(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := as.TokenHits(); n != 2 {
		t.Fatalf("token requests after 20 renewals of one token: %d, want 2", n)
	}
	if v, _ := applied(t, inj); v == first {
		t.Fatal("refused token served again")
	}
}

func TestAuthorizationCodeWithPKCEAndRotatingRefresh(t *testing.T) {
	t.Parallel()
	as := idptest.NewAuthServer(t, idptest.Options{})
	redirect := "http://127.0.0.1/oauth2/callback"
	cfg, sec := parse(t, credential.OAuth2, fmt.Sprintf(`{"grantType":"authorization_code","tokenUrl":%q,"authUrl":%q,
		"clientId":%q,"clientSecret":%q,"usePkce":true,"scopes":["read"]}`, as.TokenURL, as.AuthURL, as.ClientID, as.ClientSecret))
	flow := Flow{Client: newRegistry(t, newClock(), nil).client}
	verifier := NewVerifier()
	u := flow.AuthorizationURL(cfg, redirect, "state-123", verifier)
	if !strings.Contains(u, "code_challenge_method=S256") || strings.Contains(u, verifier) {
		t.Fatalf("authorization URL %s", u)
	}
	loc, err := as.Consent(context.Background(), u)
	if err != nil || loc.Query().Get("state") != "state-123" || loc.Query().Get("code") == "" {
		t.Fatalf("consent: %v %v", loc, err)
	}
	code := loc.Query().Get("code")
	if _, err := flow.Exchange(context.Background(), cfg, sec, redirect, code, "wrong-verifier-"+verifier); err == nil {
		t.Fatal("exchange with a wrong verifier succeeded")
	}
	// the failed attempt consumed nothing: go through consent again
	loc, _ = as.Consent(context.Background(), flow.AuthorizationURL(cfg, redirect, "s2", verifier))
	code = loc.Query().Get("code")
	refresh, err := flow.Exchange(context.Background(), cfg, sec, redirect, code, verifier)
	if err != nil || refresh == "" {
		t.Fatalf("exchange: %q %v", refresh, err)
	}
	if _, err := flow.Exchange(context.Background(), cfg, sec, redirect, code, verifier); err == nil {
		t.Fatal("replayed code accepted")
	}

	clk := newClock()
	reg := newRegistry(t, clk, nil)
	sec.RefreshToken = refresh
	inj, _ := reg.Injector("c", "v", credential.OAuth2, cfg, sec)
	first, _ := applied(t, inj)
	form, _ := as.LastForm()
	if form.Get("grant_type") != "refresh_token" || form.Get("refresh_token") != refresh {
		t.Fatalf("refresh form %v", form)
	}
	// The provider rotates refresh tokens (the old one is now invalid):
	// the next renewal must use the rotated one.
	clk.Add(2 * time.Hour)
	second, _ := applied(t, inj)
	form, _ = as.LastForm()
	if second == first || form.Get("refresh_token") == refresh {
		t.Fatalf("second refresh used %q", form.Get("refresh_token"))
	}
}

func TestAuthorizationCodeRefusedRefresh(t *testing.T) {
	t.Parallel()
	as := idptest.NewAuthServer(t, idptest.Options{})
	cfg, sec := parse(t, credential.OAuth2, fmt.Sprintf(`{"grantType":"authorization_code","tokenUrl":%q,"authUrl":%q,
		"clientId":%q,"clientSecret":%q,"refreshToken":"revoked-refresh-token"}`, as.TokenURL, as.AuthURL, as.ClientID, as.ClientSecret))
	var observed []*TokenError
	var mu sync.Mutex
	reg := newRegistry(t, newClock(), func(o *RegistryOptions) {
		o.Observer = observerFunc(func(id string, err *TokenError) { mu.Lock(); observed = append(observed, err); mu.Unlock() })
	})
	inj, _ := reg.Injector("c", "v", credential.OAuth2, cfg, sec)
	_, err := inj.Prepare(context.Background())
	if err == nil || !strings.Contains(err.Error(), "authorize the credential again") || strings.Contains(err.Error(), "revoked-refresh-token") {
		t.Fatalf("error %v", err)
	}
	eventually(t, "observer", func() bool { mu.Lock(); defer mu.Unlock(); return len(observed) == 1 })

	cfg.GrantType = credential.GrantAuthorizationCode
	sec.RefreshToken = ""
	inj, _ = reg.Injector("c2", "v", credential.OAuth2, cfg, sec)
	if _, err := inj.Prepare(context.Background()); err == nil || !strings.Contains(err.Error(), "not complete") {
		t.Fatalf("incomplete authorization: %v", err)
	}
}

type observerFunc func(string, *TokenError)

func (f observerFunc) TokenFailed(id string, err *TokenError) { f(id, err) }

func TestRetainDropsUnusedSources(t *testing.T) {
	t.Parallel()
	as := idptest.NewAuthServer(t, idptest.Options{})
	reg := newRegistry(t, newClock(), nil)
	cfg, sec := clientCreds(t, as, "")
	reg.Injector("a", "v1", credential.OAuth2, cfg, sec)
	reg.Injector("a", "v2", credential.OAuth2, cfg, sec)
	reg.Injector("b", "v1", credential.CustomToken, credential.Config{Request: &credential.TokenRequest{}}, credential.Secret{})
	reg.Injector("s", "v1", credential.Bearer, credential.Config{}, credential.Secret{Token: "x"})
	if reg.Len() != 3 {
		t.Fatalf("sources: %d", reg.Len())
	}
	reg.Retain(map[string]bool{Key("a", "v2"): true})
	if reg.Len() != 1 {
		t.Fatalf("after Retain: %d", reg.Len())
	}
}

func TestVersionChangesWithSettings(t *testing.T) {
	t.Parallel()
	a := Version("oauth2", []byte(`{"a":1}`), []byte{1})
	if a != Version("oauth2", []byte(`{"a":1}`), []byte{1}) || a == Version("oauth2", []byte(`{"a":2}`), []byte{1}) ||
		a == Version("oauth2", []byte(`{"a":1}`), []byte{2}) || a == Version("oauth2", []byte(`{"a":1}`), nil) {
		t.Fatal("Version does not track settings")
	}
}
