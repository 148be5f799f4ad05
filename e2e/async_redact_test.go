package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/client"
)

// TestAsyncViewsRedactCallerSecrets: the caller's secret headers and query
// parameters of an async request are forwarded to the target but shown
// redacted everywhere the request is shown: the Core API, the data plane's
// GET /requests/{id} and the callback payload (SPEC §7).
func TestAsyncViewsRedactCallerSecrets(t *testing.T) {
	t.Parallel()
	n := startNode(t, nodeOptions{env: []string{"KEYWAY_ASYNC_CALLBACK_BACKOFF=50ms"}})
	up := newAsyncUpstream(t, 0)
	s := n.newProxy(up.URL, "k-redact-target-secret")
	if _, err := n.API.UpdateProxy(ctx(t), "default", s.Proxy.ID, client.ProxyInput{"proxyAsyncCallbackOrigins": []string{up.URL}}); err != nil {
		t.Fatal(err)
	}
	const cookie, apiKey, token = "session=S-canary-1", "k-canary-2", "tok-canary-3"
	id, resp, out := n.submit(t, s, "/v1/items?token="+token+"&page=2", `{}`, "Cookie", cookie, "X-Api-Key", apiKey,
		"requestrocket-callback-url", up.URL+"/hook")
	wantCode(t, resp, toJSON(out), 202, "proxy-access-granted")
	r := n.waitState(t, s.Proxy.ID, id, 20*time.Second, "succeeded")

	check := func(where string, raw []byte) {
		t.Helper()
		var v struct {
			ProxyData json.RawMessage `json:"proxyData"`
		}
		var pd struct {
			APIHeaders map[string]string `json:"apiHeaders"`
			APIParams  map[string]string `json:"apiParams"`
		}
		if err := json.Unmarshal(raw, &v); err != nil || json.Unmarshal(v.ProxyData, &pd) != nil {
			t.Fatalf("%s: %v in %s", where, err, raw)
		}
		h, p := pd.APIHeaders, pd.APIParams
		if h["Cookie"] != "[redacted]" || h["X-Api-Key"] != "[redacted]" || p["token"] != "[redacted]" || p["page"] != "2" {
			t.Errorf("%s shows apiHeaders %v apiParams %v", where, h, p)
		}
		// (the target's echo of the caller's own query is its answer, stored as it came)
		for _, secret := range []string{cookie, apiKey, token} {
			if strings.Contains(string(v.ProxyData), secret) {
				t.Errorf("%s shows %q: %s", where, secret, v.ProxyData)
			}
		}
		if strings.Contains(string(raw), "k-redact-target-secret") {
			t.Errorf("%s shows the injected key: %s", where, raw)
		}
	}
	check("the Core API", []byte(toJSON(r)))

	resp, body := n.call("GET", "/requests/"+id, s.CallerKey, nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")
	var dp struct {
		Request json.RawMessage `json:"request"`
	}
	if err := json.Unmarshal([]byte(body), &dp); err != nil {
		t.Fatal(err)
	}
	check("the data plane", dp.Request)

	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var found json.RawMessage
		for _, h := range up.callbacks() {
			var ev struct {
				Data json.RawMessage `json:"data"`
			}
			if json.Unmarshal(h.body, &ev) == nil && strings.Contains(string(ev.Data), id) {
				found = ev.Data
			}
		}
		if found != nil {
			check("the callback", found)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no callback")
		}
		<-tick.C
	}
}
