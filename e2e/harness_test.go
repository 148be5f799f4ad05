// Package e2e drives the real keyway binary over HTTP against real
// upstreams. The binary is built once per test run.
//
// The suite runs on SQLite by default and on PostgreSQL with
// KEYWAY_E2E_DATABASE=postgres (make test runs both): each node then gets
// a fresh database on the test server (see pgtest), and the multi-node
// tests, which need a shared database, run too.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/client"
	"github.com/keyway-dev/keyway/internal/store/postgres/pgtest"
)

// envDatabase selects the database the suite runs on: "postgres", or
// SQLite when unset or "sqlite".
const envDatabase = "KEYWAY_E2E_DATABASE"

// onPostgres reports whether this run uses PostgreSQL.
func onPostgres() bool { return os.Getenv(envDatabase) == "postgres" }

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "keyway-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "keyway")
	if db := os.Getenv(envDatabase); db != "" && db != "sqlite" && db != "postgres" {
		fmt.Fprintf(os.Stderr, "%s=%q: want sqlite or postgres\n", envDatabase, db)
		os.Exit(2)
	}
	build := exec.Command("go", "build", "-o", binary, "../cmd/keyway")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building keyway:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// node is one running keyway process.
type node struct {
	t       *testing.T
	cmd     *exec.Cmd
	dataDir string
	// Database is the PostgreSQL URL the node uses, or "" on SQLite.
	Database  string
	env       []string
	args      []string
	out       *syncBuffer
	ProxyURL  string
	AdminURL  string
	Token     string
	Password  string
	MasterKey string
	API       *client.Client
	exited    chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// nodeOptions tune a node; zero values are fine.
type nodeOptions struct {
	dataDir   string
	masterKey string
	env       []string
	args      []string
	// database is a PostgreSQL URL to share with other nodes; on a
	// PostgreSQL run an empty one means a fresh database for this node.
	database string
	// token and password fix the bootstrap credentials (nodes sharing a
	// database must agree, since only the first start stores them).
	token, password string
}

// startNode runs keyway on loopback ports chosen by the OS and waits until
// both listeners are ready.
func startNode(t *testing.T, o nodeOptions) *node {
	t.Helper()
	n := newNode(t, o)
	n.start()
	return n
}

// newNode prepares a node (and, on a PostgreSQL run, its database) without
// starting it; t.Cleanup stops it.
func newNode(t *testing.T, o nodeOptions) *node {
	t.Helper()
	if o.database == "" && onPostgres() {
		o.database = pgtest.NewDatabase(t)
	}
	n := &node{t: t, dataDir: o.dataDir, MasterKey: o.masterKey, Database: o.database}
	if n.dataDir == "" {
		n.dataDir = t.TempDir()
	}
	switch n.MasterKey {
	case "":
		k := make([]byte, 32)
		_, _ = rand.Read(k)
		n.MasterKey = base64.StdEncoding.EncodeToString(k)
	case "-": // no key given: keyway creates a key file
		n.MasterKey = ""
	}
	n.Token, n.Password = o.token, o.password
	if n.Token == "" {
		n.Token = "u-" + randomString(32)
	}
	if n.Password == "" {
		n.Password = "pw-" + randomString(12)
	}
	n.env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"KEYWAY_BOOTSTRAP_TOKEN=" + n.Token,
		"KEYWAY_BOOTSTRAP_PASSWORD=" + n.Password,
		"KEYWAY_EGRESS_ALLOW_PRIVATE_NETWORKS=true",
		"KEYWAY_LOG_FORMAT=json",
		"KEYWAY_LOG_LEVEL=debug",
	}, o.env...)
	if n.MasterKey != "" {
		n.env = append(n.env, "KEYWAY_MASTER_KEY="+n.MasterKey)
	}
	n.env = append(n.env, n.dbEnv()...)
	n.args = append([]string{"serve", "--data-dir", n.dataDir, "--proxy-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, o.args...)
	t.Cleanup(n.stop)
	return n
}

// dbEnv is the environment that points a keyway command at the node's
// database (nothing on SQLite, where --data-dir decides).
func (n *node) dbEnv() []string {
	if n.Database == "" {
		return nil
	}
	return []string{"KEYWAY_DATABASE=" + n.Database}
}

func (n *node) start() {
	n.t.Helper()
	if err := n.launch(); err != nil {
		n.t.Fatal(err)
	}
}

// launch starts the process and waits until it is ready; it reports
// problems instead of failing the test, so nodes can start concurrently.
func (n *node) launch() error {
	n.out = &syncBuffer{}
	n.cmd = exec.Command(binary, n.args...)
	n.cmd.Env = n.env
	pr, pw := io.Pipe()
	n.cmd.Stdout = n.out
	n.cmd.Stderr = io.MultiWriter(n.out, pw)
	if err := n.cmd.Start(); err != nil {
		return err
	}
	n.exited = make(chan struct{})
	go func() {
		_ = n.cmd.Wait()
		pw.Close()
		close(n.exited)
	}()
	addrs := make(chan [2]string, 1)
	go scanListeners(pr, addrs)
	select {
	case a := <-addrs:
		n.ProxyURL, n.AdminURL = "http://"+a[0], "http://"+a[1]
	case <-n.exited:
		return fmt.Errorf("keyway exited during start:\n%s", n.out.String())
	case <-time.After(30 * time.Second):
		return fmt.Errorf("keyway did not start listening:\n%s", n.out.String())
	}
	n.API = client.New(n.AdminURL, n.Token)
	return n.waitReady()
}

// scanListeners reads the JSON log until both listeners are announced,
// then keeps draining the pipe.
func scanListeners(r io.Reader, out chan<- [2]string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var proxy, admin string
	sent := false
	for sc.Scan() {
		var line struct {
			Msg, Listener, Addr string
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Msg != "listening" {
			continue
		}
		if line.Listener == "proxy" {
			proxy = line.Addr
		} else if line.Listener == "admin" {
			admin = line.Addr
		}
		if proxy != "" && admin != "" && !sent {
			out <- [2]string{proxy, admin}
			sent = true
		}
	}
}

func (n *node) waitReady() error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(n.AdminURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		select {
		case <-n.exited:
			return fmt.Errorf("keyway exited:\n%s", n.out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("keyway not ready:\n%s", n.out.String())
}

// stop sends SIGTERM and waits for a graceful exit.
func (n *node) stop() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	select {
	case <-n.exited:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(40 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.exited
		n.t.Errorf("keyway did not stop on SIGTERM:\n%s", n.out.String())
	}
}

// restart stops the node and starts it again on the same data directory.
func (n *node) restart() {
	n.t.Helper()
	n.stop()
	n.start()
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// call sends a data-plane request.
func (n *node) call(method, path, credential string, body io.Reader, hdr ...string) (*http.Response, string) {
	n.t.Helper()
	req, err := http.NewRequest(method, n.ProxyURL+path, body)
	if err != nil {
		n.t.Fatal(err)
	}
	if credential != "" {
		req.Header.Set("Authorization", credential)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// proxySetup is a proxy with its parts, created through the Core API.
type proxySetup struct {
	Proxy     client.Proxy
	CallerKey string
	TargetID  string
	CallerID  string
	TargetCID string
}

// newProxy creates an apiKey caller credential (generated key), an apiKey
// target credential with targetKey, a target at baseURL and a proxy, all
// in region local.
func (n *node) newProxy(baseURL, targetKey string) proxySetup {
	n.t.Helper()
	return n.newProxyIn("local", baseURL, targetKey)
}

// newProxyIn is newProxy in the given region.
func (n *node) newProxyIn(region, baseURL, targetKey string) proxySetup {
	n.t.Helper()
	c := ctx(n.t)
	tc, _, err := n.API.CreateCredential(c, "default", client.CredentialInput{
		"credentialName": "target key", "credentialType": "target", "credentialAuthType": "apiKey",
		"credentialRegion": region, "credentialSecret": map[string]any{"key": targetKey, "headerName": "X-API-Key"},
	})
	if err != nil {
		n.t.Fatal(err)
	}
	pc, key, err := n.API.CreateCredential(c, "default", client.CredentialInput{
		"credentialName": "caller", "credentialType": "proxy", "credentialAuthType": "apiKey", "credentialRegion": region,
	})
	if err != nil || key == "" {
		n.t.Fatalf("caller credential: %v (key %q)", err, key)
	}
	tg, err := n.API.CreateTarget(c, "default", client.TargetInput{"targetName": "upstream", "targetBaseURL": baseURL, "targetRegion": region})
	if err != nil {
		n.t.Fatal(err)
	}
	p, err := n.API.CreateProxy(c, "default", client.ProxyInput{
		"proxyName": "e2e", "proxyRegion": region, "proxyProxyCredentialId": pc.ID,
		"proxyTargetId": tg.ID, "proxyTargetCredentialId": tc.ID,
	})
	if err != nil {
		n.t.Fatal(err)
	}
	return proxySetup{Proxy: p, CallerKey: key, TargetID: tg.ID, CallerID: pc.ID, TargetCID: tc.ID}
}

func wantCode(t *testing.T, resp *http.Response, body string, status int, code string) {
	t.Helper()
	if resp.StatusCode != status || resp.Header.Get("requestrocket-proxy-code") != code {
		t.Fatalf("got %d %q (%s), want %d %q; body %.300s", resp.StatusCode, resp.Header.Get("requestrocket-proxy-code"),
			resp.Header.Get("requestrocket-proxy-message"), status, code, body)
	}
}

func contains(hay, needle string) bool { return strings.Contains(hay, needle) }

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
