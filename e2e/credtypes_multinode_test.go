package e2e

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/idptest"
)

// TestMultiNodeOAuth2OneFetch: two nodes on one PostgreSQL database make
// one token request for a burst spread over both, and a token one node
// renews (after the target refused the old one) reaches the other node
// through the database, without another request.
func TestMultiNodeOAuth2OneFetch(t *testing.T) {
	t.Parallel()
	nodes := startCluster(t, 2, nodeOptions{})
	a, b := nodes[0], nodes[1]
	as := idptest.NewAuthServer(t, idptest.Options{})
	up, revoke := bearerUpstream(t, as)
	tc, _, _ := a.createCredential(map[string]any{"credentialName": "idp", "credentialType": "target", "credentialAuthType": "oauth2",
		"credentialSecret": map[string]any{"tokenUrl": as.TokenURL, "clientId": as.ClientID, "clientSecret": as.ClientSecret}})
	callerID, key := a.caller()
	path := "/api/" + a.wire(callerID, tc.ID, up.URL) + "/x"
	// Wait for b to see the proxy without calling it (a call would fetch):
	// once b serves a proxy created later, its snapshot holds this one too.
	later := a.newProxy(echoUpstream(t, "k-later").URL, "k-later")
	if _, err := b.waitAnswer(time.Now(), "/api/"+later.Proxy.ID+"/x", later.CallerKey, 200, "", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if as.TokenHits() != 0 {
		t.Fatalf("%d token requests before any call", as.TokenHits())
	}

	// A slow provider: the first token request is held until a second one
	// arrives or a second passes, so both nodes are surely asking while
	// the first fetch is in progress, and a second fetch cannot hide.
	second := make(chan struct{})
	var requests atomic.Int64
	as.Intercept(func(http.ResponseWriter, *http.Request) bool {
		if requests.Add(1) > 1 {
			close(second)
			return false
		}
		select {
		case <-second:
		case <-time.After(time.Second):
		}
		return false
	})
	var wg sync.WaitGroup
	var ok atomic.Int64
	for i := range 100 {
		n := nodes[i%2]
		wg.Go(func() {
			if resp, _ := n.call("GET", path, key, nil); resp.StatusCode == 200 {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 100 || as.TokenHits() != 1 {
		t.Fatalf("burst of 100 over two nodes: %d succeeded, %d token requests (want 100, 1)", ok.Load(), as.TokenHits())
	}
	as.Intercept(nil)

	revoke() // the target now refuses the shared token
	resp, body := b.call("POST", path, key, strings.NewReader("from b"))
	wantCode(t, resp, body, 200, "proxy-access-granted")
	if body != "hello from b" || as.TokenHits() != 2 {
		t.Fatalf("node b after the target refused the token: %q, %d token requests (want 2)", body, as.TokenHits())
	}
	resp, body = a.call("POST", path, key, strings.NewReader("from a"))
	wantCode(t, resp, body, 200, "proxy-access-granted")
	if body != "hello from a" || as.TokenHits() != 2 {
		t.Fatalf("node a did not take b's renewed token: %q, %d token requests (want 2)", body, as.TokenHits())
	}
}

// TestMultiNodeOAuth2Consent: consent started through one node completes
// at another node's callback (behind a load balancer any node may get the
// provider's redirect), is single use on every node, and the refresh token
// it stored serves both.
func TestMultiNodeOAuth2Consent(t *testing.T) {
	t.Parallel()
	cbAdmin := freeAddr(t)
	public := "http://" + cbAdmin
	first := startCluster(t, 1, nodeOptions{args: []string{"--admin-public-url", public}})[0]
	cb := newNode(t, nodeOptions{database: first.Database, masterKey: first.MasterKey, token: first.Token, password: first.Password,
		args: []string{"--admin-addr", cbAdmin, "--admin-public-url", public}})
	cb.start()

	as := idptest.NewAuthServer(t, idptest.Options{RedirectBase: public})
	up, _ := bearerUpstream(t, as)
	tc, _, authURL := first.createCredential(map[string]any{"credentialName": "crm", "credentialType": "target", "credentialAuthType": "oauth2",
		"credentialSecret": map[string]any{"grantType": "authorization_code", "tokenUrl": as.TokenURL, "authUrl": as.AuthURL,
			"clientId": as.ClientID, "clientSecret": as.ClientSecret, "usePkce": true}})
	loc, err := as.Consent(ctx(t), authURL)
	if err != nil || !strings.HasPrefix(loc.String(), public+"/oauth2/callback?") {
		t.Fatalf("provider redirect %v %v, want the callback node's %s", loc, err, public)
	}
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(loc.String()); code != 200 || !strings.Contains(body, "Authorization complete") {
		t.Fatalf("callback on the other node: %d %s", code, body)
	}
	replay := first.AdminURL + "/oauth2/callback?" + loc.RawQuery
	if code, body := get(replay); code != 400 || !strings.Contains(body, "already used") {
		t.Fatalf("callback replayed on the first node: %d %s", code, body)
	}

	callerID, key := first.caller()
	path := "/api/" + first.wire(callerID, tc.ID, up.URL) + "/x"
	for _, n := range []*node{cb, first} {
		if _, err := n.waitAnswer(time.Now(), path, key, 200, "", 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if as.TokenHits() != 2 { // the code exchange, then one refresh for both nodes
		t.Fatalf("token requests: %d, want 2 (code exchange, one refresh)", as.TokenHits())
	}
	if form, _ := as.LastForm(); form.Get("grant_type") != "refresh_token" {
		t.Fatalf("access token obtained by %q, want a refresh", form.Get("grant_type"))
	}
}
