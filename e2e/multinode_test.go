package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/client"
	"github.com/keyway-dev/keyway/internal/store/postgres/pgtest"
)

// propagationLimit is the SPEC's promise: a change made through one node
// reaches every node's data plane within a second.
const propagationLimit = time.Second

// startCluster starts count nodes on one fresh PostgreSQL database, all at
// once, with one master key and one set of bootstrap credentials (only
// the first start stores them, so the nodes must agree).
func startCluster(t *testing.T, count int, o nodeOptions) []*node {
	t.Helper()
	needPostgres(t)
	if o.database == "" {
		o.database = pgtest.NewDatabase(t)
	}
	if o.masterKey == "" {
		k := make([]byte, 32)
		_, _ = rand.Read(k)
		o.masterKey = base64.StdEncoding.EncodeToString(k)
	}
	o.token, o.password = "u-"+randomString(32), "pw-"+randomString(12)
	nodes := make([]*node, count)
	for i := range nodes {
		nodes[i] = newNode(t, o)
	}
	errs := make([]error, count)
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { errs[i] = n.launch() })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}
	return nodes
}

// waitAnswer calls path on n until the answer has the status and, when
// given, the message, and returns how long that took from start.
func (n *node) waitAnswer(start time.Time, path, key string, status int, message string, limit time.Duration) (time.Duration, error) {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		req, err := http.NewRequest("GET", n.ProxyURL+path, nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", key)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			msg := resp.Header.Get("requestrocket-proxy-message")
			if resp.StatusCode == status && (message == "" || msg == message) {
				return time.Since(start), nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, msg)
		}
		if time.Since(start) > limit {
			return time.Since(start), fmt.Errorf("%s still answered %s after %v, want %d %s", n.ProxyURL, last, limit, status, message)
		}
		<-tick.C
	}
}

// TestMultiNodePropagation: a proxy created through one node's Core API is
// served by the others within a second; deactivated through another, the
// rest deny it within a second. It logs the measured delays.
func TestMultiNodePropagation(t *testing.T) {
	t.Parallel()
	nodes := startCluster(t, 3, nodeOptions{})
	up := echoUpstream(t, "k-multi")
	c := ctx(t)
	var created, deactivated []time.Duration
	for i := range 5 {
		origin := nodes[i%3]
		s := origin.newProxy(up.URL, "k-multi")
		start := time.Now() // the origin's API answered: its own snapshot has the proxy
		path := "/api/" + s.Proxy.ID + "/x"
		for _, other := range nodes {
			if other == origin {
				continue
			}
			d, err := other.waitAnswer(start, path, s.CallerKey, 200, "", 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			created = append(created, d)
		}

		switcher := nodes[(i+1)%3]
		if _, err := switcher.API.UpdateProxy(c, "default", s.Proxy.ID, client.ProxyInput{"proxyActive": false}); err != nil {
			t.Fatal(err)
		}
		start = time.Now()
		for _, other := range nodes {
			d, err := other.waitAnswer(start, path, s.CallerKey, 403, "Proxy is inactive", 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if other != switcher {
				deactivated = append(deactivated, d)
			}
		}
	}
	all := append(slices.Clone(created), deactivated...)
	t.Logf("propagation delay to other nodes: created %s; deactivated %s; all %d samples: median %v, max %v",
		summary(created), summary(deactivated), len(all), median(all), slices.Max(all))
	for _, d := range all {
		if d > propagationLimit {
			t.Errorf("a change took %v to reach another node, over the %v the SPEC promises (samples %v)", d, propagationLimit, all)
		}
	}
}

func summary(ds []time.Duration) string {
	return fmt.Sprintf("median %v max %v (n=%d)", median(ds), slices.Max(ds), len(ds))
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestMultiNodeBootstrapOnce: nodes started together on an empty database
// migrate it and create the admin exactly once, and all serve.
func TestMultiNodeBootstrapOnce(t *testing.T) {
	t.Parallel()
	nodes := startCluster(t, 3, nodeOptions{})
	banners := 0
	for i, n := range nodes {
		banners += strings.Count(n.out.String(), "first start")
		var me map[string]any
		if err := n.API.Do(ctx(t), "GET", "/api/users/me", nil, &me); err != nil {
			t.Errorf("node %d: the bootstrap token does not work: %v", i, err)
		}
	}
	if banners != 1 {
		t.Fatalf("%d nodes printed the first-start banner, want exactly 1", banners)
	}
	cmd := exec.Command(binary, "migrate", "status")
	cmd.Env = append(nodes[0].dbEnv(), "KEYWAY_MASTER_KEY="+nodes[0].MasterKey)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "pending") || !strings.Contains(string(out), "applied") {
		t.Fatalf("migrate status: %v\n%s", err, out)
	}
}

// TestMultiNodeKeyMismatch: a node with another master key refuses to
// start on a database created with a different one.
func TestMultiNodeKeyMismatch(t *testing.T) {
	t.Parallel()
	first := startCluster(t, 1, nodeOptions{})[0]
	other := newNode(t, nodeOptions{database: first.Database, token: first.Token, password: first.Password})
	err := other.launch()
	if err == nil || !strings.Contains(err.Error(), "master key does not match") {
		t.Fatalf("a node with another master key: %v", err)
	}
}

// TestMultiNodeServeRegions: a node limited to some regions answers 421
// for a proxy of another region, naming it, while a node serving all
// regions forwards it; proxyBaseURL comes from the region catalogue.
func TestMultiNodeServeRegions(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "regions.yaml")
	yaml := "regions:\n" +
		"  - {id: eu, name: Europe, latitude: 53.3, longitude: -6.3, publicURL: 'https://eu.proxy.example.com'}\n" +
		"  - {id: us, name: US East, latitude: 38.9, longitude: -77.0, publicURL: 'https://us.proxy.example.com'}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	nodes := startCluster(t, 1, nodeOptions{args: []string{"--config", cfg}})
	all := nodes[0]
	euOnly := newNode(t, nodeOptions{database: all.Database, masterKey: all.MasterKey, token: all.Token, password: all.Password,
		args: []string{"--config", cfg, "--serve-regions", "eu"}})
	euOnly.start()

	up := echoUpstream(t, "k-region")
	us := all.newProxyIn("us", up.URL, "k-region")
	eu := all.newProxyIn("eu", up.URL, "k-region")
	if want := "https://us.proxy.example.com/api/" + us.Proxy.ID; us.Proxy.BaseURL != want {
		t.Errorf("proxyBaseURL %q, want %q", us.Proxy.BaseURL, want)
	}
	resp, body := all.call("GET", "/api/"+us.Proxy.ID+"/x", us.CallerKey, nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")

	if _, err := euOnly.waitAnswer(time.Now(), "/api/"+eu.Proxy.ID+"/x", eu.CallerKey, 200, "", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	resp, body = euOnly.call("GET", "/api/"+us.Proxy.ID+"/x", us.CallerKey, nil)
	wantCode(t, resp, body, 421, "proxy-access-denied")
	if msg := resp.Header.Get("requestrocket-proxy-message"); !strings.Contains(msg, "region us") {
		t.Errorf("421 message %q does not name the proxy's region", msg)
	}
}

// TestMultiNodeDatabaseOutage: while the database refuses connections the
// admin /readyz fails, Core API calls answer 503 at once, and every data plane
// keeps serving from its last snapshot; once the database is back, the
// nodes recover and changes propagate again.
func TestMultiNodeDatabaseOutage(t *testing.T) {
	t.Parallel()
	nodes := startCluster(t, 2, nodeOptions{})
	a, b := nodes[0], nodes[1]
	up := echoUpstream(t, "k-outage")
	s := a.newProxy(up.URL, "k-outage")
	path := "/api/" + s.Proxy.ID + "/x"
	if _, err := b.waitAnswer(time.Now(), path, s.CallerKey, 200, "", 10*time.Second); err != nil {
		t.Fatal(err)
	}

	name := dbName(t, a.Database)
	pgAdmin(t, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS false")
	restored := false
	restore := func() {
		if !restored {
			restored = true
			pgAdmin(t, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS true")
		}
	}
	t.Cleanup(restore)
	pgAdmin(t, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '"+name+"'")

	for _, n := range nodes {
		waitStatus(t, n.AdminURL+"/readyz", 503)
		// The version poll has failed: the node knows the database is gone.
		waitOutput(t, n, "serving the last snapshot until the database answers")
		resp, body := n.call("GET", path, s.CallerKey, nil)
		wantCode(t, resp, body, 200, "proxy-access-granted")
		waitStatus(t, n.ProxyURL+"/readyz", 200)
	}
	start := time.Now()
	_, err := a.API.UpdateProxy(ctx(t), "default", s.Proxy.ID, client.ProxyInput{"proxyActive": false})
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.Status != 503 || time.Since(start) > 15*time.Second {
		t.Fatalf("a Core API write with the database down: %v after %v, want a prompt 503", err, time.Since(start))
	}

	restore()
	for _, n := range nodes {
		waitStatus(t, n.AdminURL+"/readyz", 200)
	}
	if _, err := a.API.UpdateProxy(ctx(t), "default", s.Proxy.ID, client.ProxyInput{"proxyActive": false}); err != nil {
		t.Fatal(err)
	}
	d, err := b.waitAnswer(time.Now(), path, s.CallerKey, 403, "Proxy is inactive", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first change after the outage reached the other node in %v", d)
	if !strings.Contains(b.out.String(), "change listener lost its database connection") {
		t.Error("node b did not log the lost change listener")
	}
}

// waitOutput waits until the node has logged text.
func waitOutput(t *testing.T, n *node, text string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for !strings.Contains(n.out.String(), text) {
		select {
		case <-deadline:
			t.Fatalf("node did not log %q:\n%s", text, n.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitStatus polls url until it answers status.
func waitStatus(t *testing.T, url string, status int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	last := 0
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if last = resp.StatusCode; last == status {
				return
			}
		}
		<-time.After(20 * time.Millisecond)
	}
	t.Fatalf("%s answered %d, want %d", url, last, status)
}
