package e2e

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/client"
)

// echoUpstream answers with what it received that matters to the tests.
func echoUpstream(t *testing.T, wantKey string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != wantKey {
			http.Error(w, "bad target key", http.StatusUnauthorized)
			return
		}
		if r.Header.Get("Authorization") != "" {
			http.Error(w, "caller credential leaked upstream", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"path":"`+r.URL.EscapedPath()+`","query":"`+r.URL.RawQuery+`"}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestQuickstart is the README's first five minutes: create the four
// pieces through the Core API, call the proxy, see the target's answer.
func TestQuickstart(t *testing.T) {
	t.Parallel()
	n := startNode(t, nodeOptions{})
	up := echoUpstream(t, "target-secret-1")
	s := n.newProxy(up.URL, "target-secret-1")
	if s.Proxy.BaseURL == "" || !strings.HasSuffix(s.Proxy.BaseURL, "/api/"+s.Proxy.ID) {
		t.Fatalf("proxyBaseURL %q", s.Proxy.BaseURL)
	}
	resp, body := n.call("GET", "/api/"+s.Proxy.ID+"/v1/things?limit=2", s.CallerKey, nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")
	if body != `{"path":"/v1/things","query":"limit=2"}` {
		t.Fatalf("body %s", body)
	}
	for _, h := range []string{"requestrocket-proxy-message", "requestrocket-request-id", "Server-Timing"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
	// Bearer form and query parameter form both authenticate.
	resp, body = n.call("GET", "/api/"+s.Proxy.ID+"/x", "Bearer "+s.CallerKey, nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")
	resp, body = n.call("GET", "/api/"+s.Proxy.ID+"/x?Authorization="+s.CallerKey+"&a=1", "", nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")
	if !contains(body, `"query":"a=1"`) {
		t.Fatalf("credential parameter reached the target: %s", body)
	}
	resp, body = n.call("GET", "/api/"+s.Proxy.ID+"/x", "wrong-key-000", nil)
	wantCode(t, resp, body, 403, "proxy-access-denied")
}

// TestChangesApplyBeforeTheAPIAnswers toggles a proxy and sees the data
// plane follow at once, and a restart keep everything.
func TestChangesApplyBeforeTheAPIAnswers(t *testing.T) {
	t.Parallel()
	n := startNode(t, nodeOptions{})
	up := echoUpstream(t, "k-1")
	s := n.newProxy(up.URL, "k-1")
	c := ctx(t)
	path := "/api/" + s.Proxy.ID + "/"
	if _, err := n.API.UpdateProxy(c, "default", s.Proxy.ID, client.ProxyInput{"proxyActive": false}); err != nil {
		t.Fatal(err)
	}
	resp, body := n.call("GET", path, s.CallerKey, nil)
	wantCode(t, resp, body, 403, "proxy-access-denied")
	if resp.Header.Get("requestrocket-proxy-message") != "Proxy is inactive" {
		t.Fatalf("message %q", resp.Header.Get("requestrocket-proxy-message"))
	}
	if _, err := n.API.UpdateProxy(c, "default", s.Proxy.ID, client.ProxyInput{"proxyActive": true}); err != nil {
		t.Fatal(err)
	}
	resp, body = n.call("GET", path, s.CallerKey, nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")

	// rotating the caller key with no grace: old key denied at once
	_, newKey, err := n.API.RotateCredential(c, "default", s.CallerID, nil, 0)
	if err != nil || newKey == "" {
		t.Fatalf("rotate: %v %q", err, newKey)
	}
	resp, body = n.call("GET", path, s.CallerKey, nil)
	wantCode(t, resp, body, 403, "proxy-access-denied")
	resp, body = n.call("GET", path, newKey, nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")

	n.restart()
	resp, body = n.call("GET", path, newKey, nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")
	if strings.Count(n.out.String(), "first start") != 0 {
		t.Fatal("bootstrap ran again on restart")
	}

	// deleting the proxy keeps its credentials and target
	if err := n.API.DeleteProxy(c, "default", s.Proxy.ID); err != nil {
		t.Fatal(err)
	}
	resp, body = n.call("GET", path, newKey, nil)
	wantCode(t, resp, body, 403, "proxy-access-denied")
	if _, err := n.API.Credential(c, "default", s.CallerID); err != nil {
		t.Fatalf("credential gone with the proxy: %v", err)
	}
}

// TestInUseAndRegionChecks exercises the Core API's refusals end to end.
func TestInUseAndRegionChecks(t *testing.T) {
	t.Parallel()
	n := startNode(t, nodeOptions{})
	up := echoUpstream(t, "k")
	s := n.newProxy(up.URL, "k")
	c := ctx(t)
	err := n.API.DeleteCredential(c, "default", s.TargetCID)
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.Status != 409 || !contains(apiErr.Message, "e2e") {
		t.Fatalf("delete in-use credential: %v", err)
	}
	_, err = n.API.CreateProxy(c, "default", client.ProxyInput{
		"proxyName": "swap", "proxyRegion": "local", "proxyProxyCredentialId": s.TargetCID,
		"proxyTargetId": s.TargetID, "proxyTargetCredentialId": s.TargetCID,
	})
	if !errors.As(err, &apiErr) || apiErr.Status != 400 || len(apiErr.Fields) == 0 || apiErr.Fields[0].Field != "proxyProxyCredentialId" {
		t.Fatalf("wrong credential type: %v", err)
	}
	_, err = n.API.UpdateProxy(c, "default", s.Proxy.ID, client.ProxyInput{"proxyRegion": "elsewhere"})
	if !errors.As(err, &apiErr) || apiErr.Status != 400 {
		t.Fatalf("region change: %v", err)
	}
}

// TestTargetFailuresAndLimits covers timeouts, unreachable targets and the
// egress guard on a real binary.
func TestTargetFailuresAndLimits(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	n := startNode(t, nodeOptions{env: []string{"KEYWAY_PROXY_ADDR=127.0.0.1:0"}})
	s := n.newProxy(slow.URL, "k")
	c := ctx(t)
	if _, err := n.API.UpdateTarget(c, "default", s.TargetID, client.TargetInput{"targetTimeoutSeconds": 1}); err != nil {
		t.Fatal(err)
	}
	resp, body := n.call("GET", "/api/"+s.Proxy.ID+"/slow", s.CallerKey, nil)
	wantCode(t, resp, body, 504, "target-timeout")

	slow.Close()
	resp, body = n.call("GET", "/api/"+s.Proxy.ID+"/gone", s.CallerKey, nil)
	wantCode(t, resp, body, 502, "target-unreachable")

	resp, body = n.call("POST", "/api/"+s.Proxy.ID+"/big", s.CallerKey, strings.NewReader(strings.Repeat("x", 11<<20)))
	wantCode(t, resp, body, 413, "request-too-large")
}

// TestEgressGuardOnByDefault: without the private-network switch, a
// loopback target is refused at dial time.
func TestEgressGuardOnByDefault(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(up.Close)
	// The target is saved while private networks are allowed; the node then
	// restarts with the default policy and must refuse the stored target
	// when dialling.
	n := startNode(t, nodeOptions{})
	s := n.newProxy(up.URL, "k")
	n.env = append(n.env, "KEYWAY_EGRESS_ALLOW_PRIVATE_NETWORKS=false")
	n.restart()
	resp, body := n.call("GET", "/api/"+s.Proxy.ID+"/x", s.CallerKey, nil)
	wantCode(t, resp, body, 502, "target-unreachable")
	if hits.Load() != 0 || !contains(resp.Header.Get("requestrocket-proxy-message"), "egress") {
		t.Fatalf("guard let the call through (%d hits), message %q", hits.Load(), resp.Header.Get("requestrocket-proxy-message"))
	}
	c := ctx(t)
	for _, u := range []string{"http://169.254.169.254/latest", up.URL, "http://localhost:1"} {
		_, err := n.API.CreateTarget(c, "default", client.TargetInput{"targetName": "blocked", "targetBaseURL": u, "targetRegion": "local"})
		var apiErr *client.Error
		if !errors.As(err, &apiErr) || apiErr.Status != 400 || !contains(apiErr.Error(), "egress") {
			t.Fatalf("%s accepted: %v", u, err)
		}
	}
}

// TestGracefulShutdownFinishesInFlight: SIGTERM waits for a request that
// is being served.
func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{})
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		_, _ = io.WriteString(w, "finished")
	}))
	t.Cleanup(up.Close)
	n := startNode(t, nodeOptions{})
	s := n.newProxy(up.URL, "k")
	done := make(chan string, 1)
	go func() {
		req, _ := http.NewRequest("GET", n.ProxyURL+"/api/"+s.Proxy.ID+"/slow", nil)
		req.Header.Set("Authorization", s.CallerKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- string(b)
	}()
	<-arrived
	go n.stop()
	// the node must not exit while the request is in flight
	select {
	case <-n.exited:
		t.Fatal("exited with a request in flight")
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	if got := <-done; got != "finished" {
		t.Fatalf("in-flight request got %q", got)
	}
	<-n.exited
}

// TestMasterKeyMismatchRefusesToStart: a node with another key must not
// run on the database.
func TestMasterKeyMismatchRefusesToStart(t *testing.T) {
	t.Parallel()
	n := startNode(t, nodeOptions{})
	n.stop()
	cmd := exec.Command(binary, "serve", "--data-dir", n.dataDir, "--proxy-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0")
	cmd.Env = append([]string{"KEYWAY_MASTER_KEY=" + strings.Repeat("A", 43) + "="}, n.dbEnv()...)
	out, err := cmd.CombinedOutput()
	if err == nil || !contains(string(out), "master key does not match") {
		t.Fatalf("started with another key: %v\n%s", err, out)
	}
}

// TestGeneratedKeyFile: without a configured key, keyway creates a 0600
// key file in the data directory and reuses it. With PostgreSQL it
// refuses instead: every node must be given the same key.
func TestGeneratedKeyFile(t *testing.T) {
	t.Parallel()
	if onPostgres() {
		n := newNode(t, nodeOptions{masterKey: "-"})
		cmd := exec.Command(binary, n.args...)
		cmd.Env = n.env
		out, err := cmd.CombinedOutput()
		if err == nil || !contains(string(out), "KEYWAY_MASTER_KEY") {
			t.Fatalf("started on PostgreSQL without a master key: %v\n%s", err, out)
		}
		if _, err := os.Stat(filepath.Join(n.dataDir, "master.key")); err == nil {
			t.Fatal("created a key file on PostgreSQL")
		}
		return
	}
	dir := t.TempDir()
	run := func() string {
		cmd := exec.Command(binary, "migrate", "--data-dir", dir, "status")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return string(out)
	}
	if !contains(run(), "pending") {
		t.Fatal("fresh database should list pending migrations")
	}
	n := startNode(t, nodeOptions{dataDir: dir, masterKey: "-"})
	_ = n
	fi, err := os.Stat(filepath.Join(dir, "master.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	n.restart()
}

// TestConfigCheck: invalid configuration lists every problem and fails.
func TestConfigCheck(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(binary, "config", "check", "--proxy-addr", "nope", "--log-level", "loud")
	cmd.Env = []string{"KEYWAY_MASTER_KEY=secret-canary-value"}
	out, err := cmd.CombinedOutput()
	if err == nil || !contains(string(out), "proxyAddr") || !contains(string(out), "log") || contains(string(out), "secret-canary-value") {
		t.Fatalf("config check: %v\n%s", err, out)
	}
	cmd = exec.Command(binary, "config", "check")
	if out, err := cmd.CombinedOutput(); err != nil || !contains(string(out), "valid") {
		t.Fatalf("default config: %v\n%s", err, out)
	}
}
