package e2e

import (
	"encoding/hex"
	"fmt"
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
// output, every Core API answer (the request log and telemetry included),
// /metrics and the database files (the request log table included) for
// them. The proxy captures bodies and the target echoes the injected key,
// so the request log sees the secrets in headers, parameters and bodies.
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
		_, _ = io.WriteString(w, `{"echo":"`+r.Header.Get("X-Api-Key")+`"}`)
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
		"proxyProxyCredentialId": pc.ID, "proxyTargetId": tg.ID, "proxyTargetCredentialId": tc.ID, "proxyLogBodies": true})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := n.call("GET", "/api/"+p.ID+"/ok", callerKey, nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")
	n.call("GET", "/api/"+p.ID+"/ok?Authorization="+callerKey, "", nil)
	n.call("GET", "/api/"+p.ID+"/ok", callerKey+"x", nil)
	n.call("GET", "/api/"+p.ID+"/a/../b", callerKey, nil)
	// the caller repeats secrets where they are not expected
	n.call("POST", "/api/"+p.ID+"/echo/"+targetKey+"?token="+callerKey+"&x="+targetKey, callerKey,
		strings.NewReader(`{"k":"`+callerKey+`","t":"`+targetKey+`"}`), "X-Echo", targetKey, "X-Api-Key", targetKey)
	var logged struct {
		Requests []struct {
			RequestID string `json:"requestId"`
		} `json:"requests"`
	}
	eventually(t, "the request log", func() error {
		if err := n.API.Do(c, "GET", "/api/clients/default/proxies/"+p.ID+"/requests", nil, &logged); err != nil {
			return err
		}
		if len(logged.Requests) < 5 {
			return fmt.Errorf("%d requests logged", len(logged.Requests))
		}
		return nil
	})
	if _, err := n.API.TestTarget(c, "default", tg.ID, tc.ID); err != nil {
		t.Fatal(err)
	}

	var answers strings.Builder
	for _, path := range []string{"/api/clients/default/credentials", "/api/clients/default/targets", "/api/clients/default/proxies",
		"/api/clients/default/credentials/" + tc.ID, "/api/clients/default/proxies/" + p.ID, "/api/users/me", "/api/openapi.json",
		"/api/clients/default/proxies/" + p.ID + "/requests", "/api/clients/default/proxies/" + p.ID + "/telemetry",
		"/api/clients/default/proxies/" + p.ID + "/requests/" + logged.Requests[0].RequestID, "/api/clients/default/notifications",
		"/api/clients/default/audit", "/api/audit"} {
		var raw map[string]any
		if err := n.API.Do(c, "GET", path, nil, &raw); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		answers.WriteString(path)
		answers.WriteString(toJSON(raw))
	}
	for _, r := range logged.Requests {
		var raw map[string]any
		if err := n.API.Do(c, "GET", "/api/clients/default/proxies/"+p.ID+"/requests/"+r.RequestID, nil, &raw); err != nil {
			t.Fatal(err)
		}
		answers.WriteString(toJSON(raw))
	}
	if !strings.Contains(answers.String(), `"requestBody"`) || !strings.Contains(answers.String(), "[redacted]") {
		t.Fatal("no captured body or redaction in the request log answers, so the check proves nothing")
	}
	mresp, err := http.Get(n.AdminURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metricsText, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	if !strings.Contains(string(metricsText), p.ID) {
		t.Fatal("/metrics has no series of the proxy, so the check proves nothing")
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
	stored := map[string]string{"process output": n.out.String(), "API answers": answers.String(), "data directory": files.String(),
		"/metrics": string(metricsText)}
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
