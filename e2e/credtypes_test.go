package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/keyway-dev/keyway/client"
	"github.com/keyway-dev/keyway/internal/idptest"
)

// freeAddr reserves a loopback port for a listener whose public URL must be
// known before keyway starts (the OAuth2 redirect URI).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// createCredential answers the raw create answer (with authorizationURL).
func (n *node) createCredential(in map[string]any) (client.Credential, string, string) {
	n.t.Helper()
	var out struct {
		Credential       client.Credential `json:"credential"`
		GeneratedSecret  string            `json:"generatedSecret"`
		AuthorizationURL string            `json:"authorizationURL"`
	}
	in["credentialRegion"] = "local"
	if err := n.API.Do(ctx(n.t), "POST", "/api/clients/default/credentials", in, &out); err != nil {
		n.t.Fatalf("creating credential: %v", err)
	}
	return out.Credential, out.GeneratedSecret, out.AuthorizationURL
}

// wire creates a target at baseURL and a proxy joining the two credentials.
func (n *node) wire(callerID, targetCredID, baseURL string) string {
	n.t.Helper()
	c := ctx(n.t)
	tg, err := n.API.CreateTarget(c, "default", client.TargetInput{"targetName": "up", "targetBaseURL": baseURL, "targetRegion": "local"})
	if err != nil {
		n.t.Fatal(err)
	}
	p, err := n.API.CreateProxy(c, "default", client.ProxyInput{"proxyName": "p", "proxyRegion": "local",
		"proxyProxyCredentialId": callerID, "proxyTargetId": tg.ID, "proxyTargetCredentialId": targetCredID})
	if err != nil {
		n.t.Fatal(err)
	}
	return p.ID
}

func (n *node) caller() (string, string) {
	c, key, _ := n.createCredential(map[string]any{"credentialName": "caller", "credentialType": "proxy", "credentialAuthType": "apiKey"})
	return c.ID, key
}

// bearerUpstream accepts only tokens the authorization server issued and
// that it did not revoke itself.
func bearerUpstream(t *testing.T, as *idptest.AuthServer) (*httptest.Server, func()) {
	var mu sync.Mutex
	revoked := map[string]bool{}
	last := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		last = r.Header.Get("Authorization")
		bad := revoked[last]
		mu.Unlock()
		if bad || !as.Valid(r) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "hello %s", body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() { mu.Lock(); revoked[last] = true; mu.Unlock() }
}

func TestOAuth2ClientCredentialsE2E(t *testing.T) {
	t.Parallel()
	as := idptest.NewAuthServer(t, idptest.Options{})
	up, revoke := bearerUpstream(t, as)
	n := startNode(t, nodeOptions{})
	tc, _, _ := n.createCredential(map[string]any{"credentialName": "idp", "credentialType": "target", "credentialAuthType": "oauth2",
		"credentialSecret": map[string]any{"tokenUrl": as.TokenURL, "clientId": as.ClientID, "clientSecret": as.ClientSecret, "scopes": []string{"api"}}})
	if bytes.Contains(tc.Config, []byte(as.ClientSecret)) || !bytes.Contains(tc.Config, []byte(as.TokenURL)) {
		t.Fatalf("credentialConfig %s", tc.Config)
	}
	callerID, key := n.caller()
	pid := n.wire(callerID, tc.ID, up.URL)

	var wg sync.WaitGroup
	var ok atomic.Int64
	for range 100 {
		wg.Go(func() {
			resp, _ := n.call("GET", "/api/"+pid+"/x", key, nil)
			if resp.StatusCode == 200 {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 100 || as.TokenHits() != 1 {
		t.Fatalf("burst of 100: %d succeeded, %d token requests (want 100, 1)", ok.Load(), as.TokenHits())
	}
	revoke()
	resp, body := n.call("POST", "/api/"+pid+"/x", key, strings.NewReader("again"))
	wantCode(t, resp, body, 200, "proxy-access-granted")
	if body != "hello again" || as.TokenHits() != 2 {
		t.Fatalf("after an upstream 401: %q, %d token requests", body, as.TokenHits())
	}
	// the token survives a restart in the database (sealed)
	n.restart()
	resp, body = n.call("GET", "/api/"+pid+"/x", key, nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")
	if as.TokenHits() != 2 {
		t.Fatalf("restart fetched a new token: %d requests", as.TokenHits())
	}
	if strings.Contains(n.out.String(), as.ClientSecret) {
		t.Fatal("client secret in the log")
	}
	// a broken token endpoint is the target's auth failure, said clearly
	as.Intercept(func(w http.ResponseWriter, _ *http.Request) bool { http.Error(w, "down", 503); return true })
	revoke()
	resp, body = n.call("GET", "/api/"+pid+"/x", key, nil)
	wantCode(t, resp, body, 401, "proxy-access-granted") // renewal failed: the target's answer stands
	resp, body = n.call("GET", "/api/"+pid+"/x", key, nil)
	wantCode(t, resp, body, 502, "target-auth-failed")
	if !strings.Contains(resp.Header.Get("requestrocket-proxy-message"), "HTTP 503") {
		t.Fatalf("message %q", resp.Header.Get("requestrocket-proxy-message"))
	}
}

func TestOAuth2AuthorizationCodeE2E(t *testing.T) {
	t.Parallel()
	admin := freeAddr(t)
	as := idptest.NewAuthServer(t, idptest.Options{RedirectBase: "http://" + admin})
	up, _ := bearerUpstream(t, as)
	n := startNode(t, nodeOptions{args: []string{"--admin-addr", admin, "--admin-public-url", "http://" + admin}})
	tc, _, authURL := n.createCredential(map[string]any{"credentialName": "crm", "credentialType": "target", "credentialAuthType": "oauth2",
		"credentialSecret": map[string]any{"grantType": "authorization_code", "tokenUrl": as.TokenURL, "authUrl": as.AuthURL,
			"clientId": as.ClientID, "clientSecret": as.ClientSecret, "usePkce": true}})
	if !tc.Temporary || authURL == "" {
		t.Fatalf("create: temporary=%v authorizationURL=%q", tc.Temporary, authURL)
	}
	list, _ := n.API.Credentials(ctx(t), "default", false)
	all, _ := n.API.Credentials(ctx(t), "default", true)
	if len(all) != len(list)+1 {
		t.Fatalf("temporary credential listed: %d vs %d", len(list), len(all))
	}
	callerID, key := n.caller()
	if _, err := n.API.CreateProxy(ctx(t), "default", client.ProxyInput{"proxyName": "early", "proxyRegion": "local",
		"proxyProxyCredentialId": callerID, "proxyTargetId": "x", "proxyTargetCredentialId": tc.ID}); err == nil {
		t.Fatal("a proxy could use a temporary credential")
	}
	// The user consents at the provider, which sends the browser to keyway.
	loc, err := as.Consent(ctx(t), authURL)
	if err != nil || !strings.HasPrefix(loc.String(), "http://"+admin+"/oauth2/callback?") {
		t.Fatalf("provider redirect %v %v", loc, err)
	}
	page := func() (int, string) {
		resp, err := http.Get(loc.String())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := page(); code != 200 || !strings.Contains(body, "Authorization complete") ||
		!strings.Contains(body, `href="/credentials/`+tc.ID+`"`) {
		t.Fatalf("callback page (with a link to the dashboard's credential page) %d %s", code, body)
	}
	if code, body := page(); code != 400 || !strings.Contains(body, "already used") {
		t.Fatalf("replayed callback %d %s", code, body)
	}
	got, _ := n.API.Credential(ctx(t), "default", tc.ID)
	if got.Temporary {
		t.Fatal("credential still temporary after consent")
	}
	pid := n.wire(callerID, tc.ID, up.URL)
	resp, body := n.call("GET", "/api/"+pid+"/x", key, nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")
	if form, _ := as.LastForm(); form.Get("grant_type") != "refresh_token" {
		t.Fatalf("token obtained by %q, want a refresh", form.Get("grant_type"))
	}
}

func TestCustomTokenE2E(t *testing.T) {
	t.Parallel()
	var logins atomic.Int64
	login := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ User, Password string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		if r.Header.Get("X-Tenant") != "acme" || in.Password != "login-password" {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		n := logins.Add(1)
		fmt.Fprintf(w, `{"result":{"session":"sess-%d","validFor":3600}}`, n)
	}))
	t.Cleanup(login.Close)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("X-Session"), "sess-") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, r.Header.Get("X-Session"))
	}))
	t.Cleanup(up.Close)
	n := startNode(t, nodeOptions{})
	tc, _, _ := n.createCredential(map[string]any{"credentialName": "legacy", "credentialType": "target", "credentialAuthType": "customToken",
		"credentialSecret": map[string]any{"request": map[string]any{"method": "POST", "url": login.URL + "/login",
			"headers": map[string]string{"X-Tenant": "acme"}, "body": `{"user":"svc","password":"login-password"}`},
			"tokenPath": "result.session", "expiresInPath": "result.validFor", "headerName": "X-Session", "prefix": ""}})
	if bytes.Contains(tc.Config, []byte("login-password")) || bytes.Contains(tc.Config, []byte("acme")) {
		t.Fatalf("secret parts in credentialConfig: %s", tc.Config)
	}
	callerID, key := n.caller()
	pid := n.wire(callerID, tc.ID, up.URL)
	for range 5 {
		resp, body := n.call("GET", "/api/"+pid+"/x", key, nil)
		wantCode(t, resp, body, 200, "proxy-access-granted")
		if body != "sess-1" {
			t.Fatalf("upstream saw %q", body)
		}
	}
	if logins.Load() != 1 {
		t.Fatalf("logins: %d", logins.Load())
	}
}

func TestJWTVerifyE2E(t *testing.T) {
	t.Parallel()
	jwks := idptest.NewJWKS(t)
	jwks.AddKey(t, jose.RS256, "k1", true)
	jwks.AddKey(t, jose.RS256, "rogue", false)
	up := echoUpstream(t, "target-secret-1")
	n := startNode(t, nodeOptions{})
	pc, _, _ := n.createCredential(map[string]any{"credentialName": "workload", "credentialType": "proxy", "credentialAuthType": "jwtVerify",
		"credentialSecret": map[string]any{"jwksUrl": jwks.URL, "issuer": "https://idp.test", "audiences": []string{"keyway"}}})
	tc, _, _ := n.createCredential(map[string]any{"credentialName": "t", "credentialType": "target", "credentialAuthType": "apiKey",
		"credentialSecret": map[string]any{"key": "target-secret-1"}})
	pid := n.wire(pc.ID, tc.ID, up.URL)
	now := time.Now()
	claims := func(exp time.Time) map[string]any {
		return map[string]any{"iss": "https://idp.test", "aud": "keyway", "sub": "svc", "exp": exp.Unix()}
	}
	good := jwks.Sign(t, "k1", claims(now.Add(time.Hour)), false)
	resp, body := n.call("GET", "/api/"+pid+"/x", "Bearer "+good, nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://idp.test","aud":"keyway","exp":4102444800}`)) + "."
	for _, c := range []struct{ tok, msg string }{
		{jwks.Sign(t, "k1", claims(now.Add(-time.Hour)), false), "token has expired"},
		{jwks.Sign(t, "rogue", claims(now.Add(time.Hour)), false), "not in the issuer's key set"},
		{none, "alg none"},
		{strings.Repeat("x", 9000), "too large"},
	} {
		resp, body := n.call("GET", "/api/"+pid+"/x", "Bearer "+c.tok, nil)
		wantCode(t, resp, body, 403, "proxy-access-denied")
		if !strings.Contains(resp.Header.Get("requestrocket-proxy-message"), c.msg) {
			t.Errorf("message %q, want %q", resp.Header.Get("requestrocket-proxy-message"), c.msg)
		}
	}

	// A shared-secret credential rotated with a grace period accepts both secrets.
	secret := strings.Repeat("k", 48)
	hc, _, _ := n.createCredential(map[string]any{"credentialName": "hs", "credentialType": "proxy", "credentialAuthType": "jwtVerify",
		"credentialSecret": map[string]any{"sharedSecret": secret}})
	hp := n.wire(hc.ID, tc.ID, up.URL)
	oldTok := idptest.SignHMAC(t, jose.HS256, []byte(secret), claims(now.Add(time.Hour)))
	_, newSecret, err := n.API.RotateCredential(ctx(t), "default", hc.ID, nil, 10*time.Minute)
	if err != nil || newSecret == "" {
		t.Fatalf("rotate: %v", err)
	}
	newTok := idptest.SignHMAC(t, jose.HS256, []byte(newSecret), claims(now.Add(time.Hour)))
	for _, tok := range []string{oldTok, newTok} {
		resp, body := n.call("GET", "/api/"+hp+"/x", "Bearer "+tok, nil)
		wantCode(t, resp, body, 200, "proxy-access-granted")
	}
	if _, _, err := n.API.RotateCredential(ctx(t), "default", hc.ID, map[string]any{"sharedSecret": strings.Repeat("z", 48)}, 0); err != nil {
		t.Fatal(err)
	}
	resp, body = n.call("GET", "/api/"+hp+"/x", "Bearer "+newTok, nil)
	wantCode(t, resp, body, 403, "proxy-access-denied")
	if strings.Contains(n.out.String(), secret) || strings.Contains(n.out.String(), newSecret) {
		t.Fatal("shared secret in the log")
	}
}
