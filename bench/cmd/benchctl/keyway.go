package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"time"
)

// keywayInstance is a running keyway with one configured bench proxy.
type keywayInstance struct {
	proc     *proc
	adminURL string
	token    string
	proxyURL string // full data-plane URL that wrk loads
}

// startKeyway runs `keyway serve` on the proxy CPU with a fresh data
// directory and waits for the admin listener's /readyz. name tells
// instances apart (process and data directory); extraEnv is added to the
// environment.
func startKeyway(ctx context.Context, cfg config, sup *supervisor, name string, extraEnv ...string) (*keywayInstance, int, error) {
	proxyPort, err := freePort()
	if err != nil {
		return nil, 0, err
	}
	adminPort, err := freePort()
	if err != nil {
		return nil, 0, err
	}
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	token := "u-" + rand.Text() // rand.Text is 26 base32 characters
	env := childEnv(append([]string{
		"GOMAXPROCS=1",
		"KEYWAY_BOOTSTRAP_TOKEN=" + token,
		"KEYWAY_BOOTSTRAP_PASSWORD=bench-" + rand.Text(),
		"KEYWAY_MASTER_KEY=" + base64.StdEncoding.EncodeToString(master),
		"KEYWAY_EGRESS_ALLOW_PRIVATE_NETWORKS=true",
	}, extraEnv...)...)
	p, err := sup.start(name, cfg.proxyCPU, env, cfg.keywayBin, "serve",
		"--data-dir", filepath.Join(cfg.workDir, name+"-data"),
		"--proxy-addr", fmt.Sprintf("127.0.0.1:%d", proxyPort),
		"--admin-addr", fmt.Sprintf("127.0.0.1:%d", adminPort))
	if err != nil {
		return nil, 0, err
	}
	k := &keywayInstance{proc: p, adminURL: fmt.Sprintf("http://127.0.0.1:%d", adminPort), token: token}
	if err := k.waitReady(ctx, cfg.readyTimeout); err != nil {
		return nil, 0, err
	}
	return k, proxyPort, nil
}

func (k *keywayInstance) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for {
		res, err := httpDo(ctx, http.MethodGet, k.adminURL+"/readyz", nil, nil)
		if err == nil && res.status == http.StatusOK {
			return nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = res.String()
		}
		if k.proc.exited() {
			return fmt.Errorf("keyway did not start: %w", k.proc.failure())
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("keyway not ready at %s/readyz within %s (last: %s); last output from %s:\n%s",
				k.adminURL, timeout, last, k.proc.logPath, k.proc.logTail(40))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// configure creates the target credential, the caller credential, the target
// and the proxy through the Core API, as a user would.
func (k *keywayInstance) configure(ctx context.Context, proxyPort int, upstreamURL, proxyKey, targetKey string) error {
	var cred struct {
		Credential struct {
			CredentialID string `json:"credentialId"`
		} `json:"credential"`
	}
	if err := k.post(ctx, "/api/clients/default/credentials", map[string]any{
		"credentialName": "bench-target", "credentialType": "target",
		"credentialAuthType": "apiKey", "credentialRegion": "local",
		"credentialSecret": map[string]string{"key": targetKey, "headerName": "X-API-Key"},
	}, &cred); err != nil {
		return err
	}
	targetCredID := cred.Credential.CredentialID
	if err := k.post(ctx, "/api/clients/default/credentials", map[string]any{
		"credentialName": "bench-caller", "credentialType": "proxy",
		"credentialAuthType": "apiKey", "credentialRegion": "local",
		"credentialSecret": map[string]string{"key": proxyKey},
	}, &cred); err != nil {
		return err
	}
	proxyCredID := cred.Credential.CredentialID
	var target struct {
		Target struct {
			TargetID string `json:"targetId"`
		} `json:"target"`
	}
	if err := k.post(ctx, "/api/clients/default/targets", map[string]any{
		"targetName": "bench-upstream", "targetBaseURL": upstreamURL, "targetRegion": "local",
	}, &target); err != nil {
		return err
	}
	var proxy struct {
		Proxy struct {
			ProxyID string `json:"proxyId"`
		} `json:"proxy"`
	}
	if err := k.post(ctx, "/api/clients/default/proxies", map[string]any{
		"proxyName": "bench", "proxyActive": true, "proxyRegion": "local",
		"proxyProxyCredentialId":  proxyCredID,
		"proxyTargetId":           target.Target.TargetID,
		"proxyTargetCredentialId": targetCredID,
	}, &proxy); err != nil {
		return err
	}
	if targetCredID == "" || proxyCredID == "" || target.Target.TargetID == "" || proxy.Proxy.ProxyID == "" {
		return fmt.Errorf("keyway Core API answered without ids (credentials %q/%q, target %q, proxy %q)",
			targetCredID, proxyCredID, target.Target.TargetID, proxy.Proxy.ProxyID)
	}
	k.proxyURL = fmt.Sprintf("http://127.0.0.1:%d/api/%s/bench", proxyPort, proxy.Proxy.ProxyID)
	return nil
}

func (k *keywayInstance) post(ctx context.Context, path string, body, into any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	hdr := map[string]string{"Authorization": "Bearer " + k.token, "Content-Type": "application/json"}
	res, err := httpDo(ctx, http.MethodPost, k.adminURL+path, hdr, b)
	if err != nil {
		return fmt.Errorf("keyway POST %s: %w", path, err)
	}
	if res.status != http.StatusCreated && res.status != http.StatusOK {
		return fmt.Errorf("keyway POST %s: %s", path, res)
	}
	if err := json.Unmarshal(res.body, into); err != nil {
		return fmt.Errorf("keyway POST %s: decoding %.200s: %w", path, res.body, err)
	}
	return nil
}

// benchClient never uses an environment proxy: all traffic stays on loopback.
var benchClient = &http.Client{
	Timeout:   5 * time.Second,
	Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// httpResult is the part of a response the harness looks at.
type httpResult struct {
	status int
	header http.Header
	body   []byte
}

// String shows the status, keyway's diagnostic headers if any, and the body.
func (r httpResult) String() string {
	s := fmt.Sprintf("status %d", r.status)
	for _, h := range []string{"Requestrocket-Proxy-Code", "Requestrocket-Proxy-Message"} {
		if v := r.header.Get(h); v != "" {
			s += fmt.Sprintf(", %s: %s", h, v)
		}
	}
	return fmt.Sprintf("%s, body %.300q", s, r.body)
}

// httpDo sends one request and reads the whole (bounded) answer.
func httpDo(ctx context.Context, method, url string, hdr map[string]string, body []byte) (httpResult, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return httpResult{}, err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := benchClient.Do(req)
	if err != nil {
		return httpResult{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return httpResult{status: resp.StatusCode, header: resp.Header, body: b}, err
}
