package e2e

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyway-dev/keyway/client"
)

// TestCanarySecretsNeverLeak plants recognisable secrets in every kind of
// credential, uses them, provokes errors, and then searches the process
// output, every Core API answer and the database files for them.
func TestCanarySecretsNeverLeak(t *testing.T) {
	t.Parallel()
	const (
		targetKey   = "CANARYtargetKEY7c1e"
		callerKey   = "CANARYcallerKEY9f2a"
		basicPass   = "CANARYbasicPASS51b3"
		customValue = "CANARYcustomHDR0d44"
	)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != targetKey {
			w.WriteHeader(401)
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(up.Close)
	n := startNode(t, nodeOptions{env: []string{"KEYWAY_ACCESS_LOG=true"}})
	c := ctx(t)
	mk := func(in client.CredentialInput) client.Credential {
		cr, _, err := n.API.CreateCredential(c, "default", in)
		if err != nil {
			t.Fatal(err)
		}
		return cr
	}
	tc := mk(client.CredentialInput{"credentialName": "t", "credentialType": "target", "credentialAuthType": "apiKey", "credentialRegion": "local",
		"credentialSecret": map[string]any{"key": targetKey}})
	pc := mk(client.CredentialInput{"credentialName": "p", "credentialType": "proxy", "credentialAuthType": "apiKey", "credentialRegion": "local",
		"credentialSecret": map[string]any{"key": callerKey}})
	mk(client.CredentialInput{"credentialName": "b", "credentialType": "proxy", "credentialAuthType": "basicAuth", "credentialRegion": "local",
		"credentialSecret": map[string]any{"username": "u", "password": basicPass}})
	mk(client.CredentialInput{"credentialName": "c", "credentialType": "target", "credentialAuthType": "custom", "credentialRegion": "local",
		"credentialSecret": map[string]any{"headers": map[string]string{"X-Custom": customValue}}})
	tg, err := n.API.CreateTarget(c, "default", client.TargetInput{"targetName": "up", "targetBaseURL": up.URL, "targetRegion": "local"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := n.API.CreateProxy(c, "default", client.ProxyInput{"proxyName": "p", "proxyRegion": "local",
		"proxyProxyCredentialId": pc.ID, "proxyTargetId": tg.ID, "proxyTargetCredentialId": tc.ID})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := n.call("GET", "/api/"+p.ID+"/ok", callerKey, nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")
	n.call("GET", "/api/"+p.ID+"/ok?Authorization="+callerKey, "", nil)
	n.call("GET", "/api/"+p.ID+"/ok", callerKey+"x", nil)
	n.call("GET", "/api/"+p.ID+"/a/../b", callerKey, nil)
	if _, err := n.API.TestTarget(c, "default", tg.ID, tc.ID); err != nil {
		t.Fatal(err)
	}

	var answers strings.Builder
	for _, path := range []string{"/api/clients/default/credentials", "/api/clients/default/targets", "/api/clients/default/proxies",
		"/api/clients/default/credentials/" + tc.ID, "/api/clients/default/proxies/" + p.ID, "/api/users/me", "/api/openapi.json",
		"/api/clients/default/audit", "/api/audit"} {
		var raw map[string]any
		if err := n.API.Do(c, "GET", path, nil, &raw); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		answers.WriteString(path)
		answers.WriteString(toJSON(raw))
	}
	n.stop() // flush the database files
	var files strings.Builder
	entries, _ := os.ReadDir(n.dataDir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(n.dataDir, e.Name()))
		if err == nil {
			files.Write(b)
		}
	}
	stored := map[string]string{"process output": n.out.String(), "API answers": answers.String(), "data directory": files.String()}
	if n.Database != "" {
		db := dumpDatabase(t, n.Database)
		if !strings.Contains(db, p.ID) {
			t.Fatal("the database dump lacks the proxy, so searching it proves nothing")
		}
		stored["database"] = db
	}
	for _, secret := range []string{targetKey, callerKey, basicPass, customValue} {
		for where, text := range stored {
			if strings.Contains(text, secret) || strings.Contains(text, hex.EncodeToString([]byte(secret))) {
				t.Errorf("secret %s found in %s", secret, where)
			}
		}
	}
	if !strings.Contains(n.out.String(), `"msg":"request"`) {
		t.Fatal("access log was not written, so the log check proves nothing")
	}
}
